/** Why a body could not be read; the route maps each reason to its status. */
export class BodyError extends Error {
  override readonly name = 'BodyError';
  constructor(
    readonly reason: 'too_large' | 'unsupported_encoding' | 'unreadable',
    message: string,
  ) {
    super(message);
  }
}

export interface ReadBodyOptions {
  /** Largest body accepted, in bytes after decoding. */
  maxBytes: number;
}

/**
 * Reads a request body as text, decoding `Content-Encoding: gzip` (or deflate), and refuses it
 * with 413 as soon as it grows past `maxBytes` (compressed or decompressed), so a gzip bomb costs
 * at most that much.
 */
export async function readTextBody(request: Request, options: ReadBodyOptions): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  // Identity with a declared length within the limit: the runtime enforces the framing, so the
  // native reader can take it whole.
  if (contentEncoding(request) === 'identity' && Number.isFinite(declared) && declared <= options.maxBytes && request.body) {
    return request.text();
  }
  return new TextDecoder().decode(await readBodyBytes(request, options));
}

function contentEncoding(request: Request): string {
  return (request.headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
}

const DECOMPRESSION: Record<string, 'gzip' | 'deflate' | null> = { identity: null, gzip: 'gzip', 'x-gzip': 'gzip', deflate: 'deflate' };

/** The body's bytes, decoded and capped as readTextBody does (for binary bodies: protobuf). */
export async function readBodyBytes(request: Request, { maxBytes }: ReadBodyOptions): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const encoding = contentEncoding(request);
  const format = DECOMPRESSION[encoding];
  if (format === undefined) {
    throw new BodyError('unsupported_encoding', `Content-Encoding "${encoding}" is not supported; use gzip, deflate or none`);
  }
  if (!request.body) return new Uint8Array(0);
  let stream: ReadableStream<Uint8Array> = request.body;
  if (format) stream = capped(stream, maxBytes).pipeThrough(new DecompressionStream(format));
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel();
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof BodyError) throw error;
    throw new BodyError('unreadable', `body could not be read as ${encoding}: ${(error as Error).message}`);
  }
  return chunks.length === 1 ? chunks[0]! : concat(chunks, total);
}

function capped(stream: ReadableStream<Uint8Array>, maxBytes: number): ReadableStream<Uint8Array> {
  let total = 0;
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        total += chunk.byteLength;
        if (total > maxBytes) controller.error(tooLarge(maxBytes));
        else controller.enqueue(chunk);
      },
    }),
  );
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

function tooLarge(maxBytes: number): BodyError {
  return new BodyError('too_large', `body exceeds the limit of ${maxBytes} bytes (after gzip decoding)`);
}
