/**
 * The seed's "write to file if the database fails", for processes that can write files (Node,
 * self-hosted Deno): batches the memory queue cannot hold go to a bounded directory, one file per
 * batch, and are sent again, oldest first, once the endpoint answers (and on the next start).
 *
 * A file is the batch's wire JSON with its record count in the name
 * (`<time>-<sequence>-<count>.json`), written under a temporary name and renamed, so a file is
 * whole or absent; a `.tmp` left by a crash mid-write is removed at the next start. A file that
 * does not parse costs that file only.
 */
import type { IngestRequest } from '../api/wire.ts';

export interface SpoolOptions {
  /** Directory of the spool. Default `.log-spool` under the working directory. */
  dir?: string;
  /** Bytes on disk at most; past it the oldest files are dropped (and counted). Default 1 GiB. */
  maxBytes?: number;
}

export interface SpooledBatch {
  name: string;
  count: number;
  batch: IngestRequest | undefined;
}

type Fs = typeof import('node:fs/promises');
type FsSync = typeof import('node:fs');
type Path = typeof import('node:path');

const NAME = /^(\d+)-(\d+)-(\d+)\.json$/;

const byAge = (a: { t: number; seq: number }, b: { t: number; seq: number }) => a.t - b.t || a.seq - b.seq;

/** A spool directory. Every method reports failure by rejecting; the transport decides what that costs. */
export class Spool {
  /** Oldest first, by the time and sequence in their names (writes may finish out of order). */
  private files: { name: string; bytes: number; count: number; t: number; seq: number }[] = [];
  private bytes = 0;
  private sequence = 0;

  private constructor(
    private readonly fs: Fs,
    private readonly fsSync: FsSync,
    private readonly path: Path,
    readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  /**
   * Lists what an earlier run left in the directory, oldest first; the directory itself is made
   * at the first write. Undefined where the runtime has no file system of its own (Workers).
   */
  static async open(options: SpoolOptions = {}): Promise<Spool | undefined> {
    if ((globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent === 'Cloudflare-Workers') return undefined;
    let fs: Fs;
    let fsSync: FsSync;
    let path: Path;
    let cwd: string;
    try {
      [fs, fsSync, path] = await Promise.all([import('node:fs/promises'), import('node:fs'), import('node:path')]);
      cwd = (globalThis as { process?: { cwd(): string } }).process!.cwd();
    } catch {
      return undefined;
    }
    const dir = path.resolve(cwd, options.dir ?? '.log-spool');
    const spool = new Spool(fs, fsSync, path, dir, options.maxBytes ?? 1024 ** 3);
    await spool.scan();
    return spool;
  }

  private async scan() {
    const found: { name: string; bytes: number; count: number; t: number; seq: number }[] = [];
    let names: string[];
    try {
      names = await this.fs.readdir(this.dir);
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return;
      throw error;
    }
    for (const name of names) {
      if (name.endsWith('.tmp')) {
        await this.fs.rm(this.path.join(this.dir, name), { force: true });
        continue;
      }
      const m = NAME.exec(name);
      if (!m) continue;
      const { size } = await this.fs.stat(this.path.join(this.dir, name));
      found.push({ name, bytes: size, count: Number(m[3]), t: Number(m[1]), seq: Number(m[2]) });
    }
    found.sort(byAge);
    this.files = found;
    this.bytes = found.reduce((s, f) => s + f.bytes, 0);
  }

  /** Batches waiting on disk. */
  get size(): number {
    return this.files.length;
  }

  /** Records waiting on disk. */
  get records(): number {
    return this.files.reduce((s, f) => s + f.count, 0);
  }

  /**
   * Writes a batch of `count` records. Returns how many older records were dropped to stay within
   * maxBytes (0 normally).
   */
  async write(json: string, count: number): Promise<number> {
    const next = this.next(count);
    if (this.files.length === 0) await this.fs.mkdir(this.dir, { recursive: true });
    await this.fs.writeFile(`${next.file}.tmp`, json);
    await this.fs.rename(`${next.file}.tmp`, next.file);
    const evicted = this.add(next, json);
    for (const f of evicted) await this.fs.rm(this.path.join(this.dir, f.name), { force: true });
    return evicted.reduce((n, f) => n + f.count, 0);
  }

  /** write(), blocking: for when writes fall behind (see Transport), so that memory stays bounded. */
  writeSync(json: string, count: number): number {
    const next = this.next(count);
    if (this.files.length === 0) this.fsSync.mkdirSync(this.dir, { recursive: true });
    this.fsSync.writeFileSync(`${next.file}.tmp`, json);
    this.fsSync.renameSync(`${next.file}.tmp`, next.file);
    const evicted = this.add(next, json);
    for (const f of evicted) this.fsSync.rmSync(this.path.join(this.dir, f.name), { force: true });
    return evicted.reduce((n, f) => n + f.count, 0);
  }

  private next(count: number) {
    const t = Date.now();
    const seq = this.sequence++;
    const name = `${t}-${String(seq).padStart(6, '0')}-${count}.json`;
    return { name, count, t, seq, file: this.path.join(this.dir, name) };
  }

  /** Lists a written file in age order; returns the oldest ones past maxBytes, to remove. */
  private add(next: { name: string; count: number; t: number; seq: number }, json: string) {
    const entry = { name: next.name, count: next.count, t: next.t, seq: next.seq, bytes: new TextEncoder().encode(json).byteLength };
    let i = this.files.length;
    while (i > 0 && byAge(this.files[i - 1]!, entry) > 0) i--;
    this.files.splice(i, 0, entry);
    this.bytes += entry.bytes;
    const evicted: { name: string; count: number }[] = [];
    while (this.bytes > this.maxBytes && this.files.length > 1) {
      const oldest = this.files.shift()!;
      this.bytes -= oldest.bytes;
      evicted.push(oldest);
    }
    return evicted;
  }

  /** The oldest batch, read; `batch` undefined when the file does not parse (then remove it). */
  async oldest(): Promise<SpooledBatch | undefined> {
    const f = this.files[0];
    if (!f) return undefined;
    let batch: IngestRequest | undefined;
    try {
      batch = JSON.parse(await this.fs.readFile(this.path.join(this.dir, f.name), 'utf8')) as IngestRequest;
    } catch {
      batch = undefined;
    }
    return { name: f.name, count: f.count, batch };
  }

  /** Removes a batch once it is delivered (or refused for good, or unreadable). */
  async remove(name: string): Promise<void> {
    const i = this.files.findIndex((f) => f.name === name);
    if (i >= 0) {
      this.bytes -= this.files[i]!.bytes;
      this.files.splice(i, 1);
    }
    await this.fs.rm(this.path.join(this.dir, name), { force: true });
  }
}
