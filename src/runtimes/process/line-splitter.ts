/**
 * Split a byte stream into lines without holding unbounded data: a line longer than maxLine is
 * emitted in pieces (a function printing a 100 MB line must not exhaust the platform's memory).
 */
export class LineSplitter {
  private pending = '';

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLine = 256 * 1024,
  ) {}

  push(chunk: Buffer): void {
    let text = this.pending + chunk.toString('utf8');
    let newline: number;
    while ((newline = text.indexOf('\n')) >= 0) {
      this.onLine(text.slice(0, newline));
      text = text.slice(newline + 1);
    }
    while (text.length > this.maxLine) {
      this.onLine(text.slice(0, this.maxLine));
      text = text.slice(this.maxLine);
    }
    this.pending = text;
  }

  flush(): void {
    if (this.pending.length > 0) this.onLine(this.pending);
    this.pending = '';
  }
}
