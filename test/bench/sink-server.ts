// A local ingest stand-in for bench:client: reads each (gzip) body and answers 200, in its own process
// so that its CPU is not counted as the client's.
import http from 'node:http';

const server = http.createServer((req, res) => {
  let bytes = 0;
  req.on('data', (d: Buffer) => (bytes += d.length));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ accepted: 0, duplicates: 0, sanitized: 0, rejected: [], bytes }));
  });
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: (server.address() as { port: number }).port })));
