import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';

/** What identifies a run: resuming is allowed only with the same input, function and chunking. */
export interface JournalHeader {
  readonly v: 1;
  readonly function: string;
  readonly input: string;
  readonly inputBytes: number;
  readonly inputMtimeMs: number;
  readonly chunkRows: number;
}

/**
 * The resume journal of a batch job, a JSON Lines file next to the output: the header, then one
 * line per finished chunk with its results. A chunk is written only after it succeeded; a line cut
 * by a crash is ignored, so resuming redoes at most the chunks that were running.
 */
export class Journal {
  private constructor(
    readonly path: string,
    readonly done: Map<number, unknown[]>,
  ) {}

  /** Open for `header`: with resume, keep the chunks of a matching journal; otherwise start over. */
  static async open(path: string, header: JournalHeader, resume: boolean): Promise<Journal> {
    const done = new Map<number, unknown[]>();
    if (resume) {
      const text = await readFile(path, 'utf8').catch(() => undefined);
      if (text !== undefined) {
        const lines = text.split('\n');
        let head: JournalHeader | undefined;
        try {
          head = JSON.parse(lines[0]!) as JournalHeader;
        } catch {
          head = undefined;
        }
        if (head && JSON.stringify(head) === JSON.stringify(header)) {
          for (const line of lines.slice(1)) {
            try {
              const entry = JSON.parse(line) as { chunk: number; results: unknown[] };
              done.set(entry.chunk, entry.results);
            } catch {
              /* a line cut short by the interruption */
            }
          }
          return new Journal(path, done);
        }
      }
    }
    await writeFile(path, `${JSON.stringify(header)}\n`);
    return new Journal(path, done);
  }

  async record(chunk: number, results: unknown[]): Promise<void> {
    this.done.set(chunk, results);
    await appendFile(this.path, `${JSON.stringify({ chunk, results })}\n`);
  }

  async remove(): Promise<void> {
    await rm(this.path, { force: true });
  }
}
