/**
 * A local sink for bench:client, in its own process so that its CPU is not the client's. It accepts
 * everything in each shipper's protocol and answers as its service would: ours (POST /v1/ingest),
 * Axiom (POST /v1/datasets/<name>/ingest), Better Stack's Logtail (POST /), Loki
 * (POST /loki/api/v1/push). It counts the bytes on the wire (request line, headers and body) and,
 * in the decoded bodies, the records ("Order created" occurrences). POST /reset zeroes the counts;
 * GET /stats returns them.
 */
import http from 'node:http';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

let stats = { requests: 0, wireBytes: 0, records: 0 };
const NEEDLE = Buffer.from('Order created');

function decode(body: Buffer, encoding: string | undefined): Buffer {
  if (encoding === 'gzip') return gunzipSync(body);
  if (encoding === 'deflate') return inflateSync(body);
  if (encoding === 'br') return brotliDecompressSync(body);
  return body;
}

function count(body: Buffer): number {
  let n = 0;
  for (let i = body.indexOf(NEEDLE); i >= 0; i = body.indexOf(NEEDLE, i + NEEDLE.length)) n++;
  return n;
}

const server = http.createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (d: Buffer) => parts.push(d));
  req.on('end', () => {
    if (req.url === '/reset') {
      stats = { requests: 0, wireBytes: 0, records: 0 };
      return res.writeHead(204).end();
    }
    if (req.url === '/stats') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
    const body = Buffer.concat(parts);
    stats.requests++;
    stats.wireBytes += body.length + `${req.method} ${req.url} HTTP/1.1\r\n`.length + req.rawHeaders.reduce((s, h) => s + h.length + 2, 2); // "name: value\r\n" lines, then "\r\n"
    let records = 0;
    try {
      records = count(decode(body, req.headers['content-encoding']));
    } catch {
      records = 0;
    }
    stats.records += records;
    if (req.url?.startsWith('/v1/ingest')) {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ accepted: records, duplicates: 0, sanitized: 0, rejected: [] }));
    } else if (req.url?.startsWith('/v1/datasets/')) {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ingested: records, failed: 0, failures: [], processedBytes: body.length, blocksCreated: 0, walLength: 0 }));
    } else if (req.url?.startsWith('/loki/')) {
      res.writeHead(204).end();
    } else {
      res.writeHead(202).end();
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: (server.address() as { port: number }).port })));
