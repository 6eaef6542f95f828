/**
 * `COPY ... FROM STDIN` (text format) over a pg client, without the pg-copy-streams dependency:
 * a query object pg's Client drives like its own (the "submittable" protocol pg-cursor and
 * pg-copy-streams use). Loading a staging table this way costs a fraction of batched
 * `insert ... select from unnest(...)` (no array literals to build on our side or parse on the
 * server's).
 */
import type pg from 'pg';

/** The part of pg's Connection a COPY needs (pg-copy-streams relies on the same methods). */
interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

/** A COPY FROM STDIN of prepared data, settled on the server's answer. */
class CopyFromStdin {
  private settled = false;

  constructor(
    private readonly text: string,
    private readonly data: Buffer,
    private readonly done: (err?: Error) => void,
  ) {}

  submit(connection: CopyConnection): void {
    connection.query(this.text);
  }

  /** The server is ready for rows: send them all, then end the copy. */
  handleCopyInResponse(connection: CopyConnection): void {
    if (this.data.length) connection.sendCopyFromChunk(this.data);
    connection.endCopyFrom();
  }

  handleError(err: Error): void {
    this.settle(err);
  }

  handleReadyForQuery(): void {
    this.settle();
  }

  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}

  private settle(err?: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.done(err);
  }
}

/** Runs `copy <target> from stdin` with `data` (text format rows) on a client of `pool`. */
export async function copyFromStdin(pool: pg.Pool, target: string, data: string): Promise<void> {
  const client = await pool.connect();
  let failure: Error | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const q = new CopyFromStdin(`copy ${target} from stdin`, Buffer.from(data, 'utf8'), (err) => (err ? reject(err) : resolve()));
      client.query(q as unknown as pg.Submittable);
    });
  } catch (err) {
    failure = err as Error;
    throw err;
  } finally {
    // A client whose copy failed is not reused: its protocol state is not worth trusting.
    client.release(failure);
  }
}

/** One value in COPY's text format: `\N` for null; backslash, tab, newline and carriage return escaped. */
export function copyValue(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '\\N';
  const s = typeof v === 'string' ? v : String(v);
  return /[\\\t\n\r]/.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : s;
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
