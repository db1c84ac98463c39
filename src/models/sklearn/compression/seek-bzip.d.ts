// Minimal typing for the CommonJS 'seek-bzip' package (pure-JS bzip2 decoder).
declare module 'seek-bzip' {
  interface InputStream {
    readByte(): number;
    read(buffer: Uint8Array, offset: number, length: number): number;
    eof(): boolean;
    seek(pos: number): void;
  }
  interface OutputStream {
    writeByte(b: number): void;
  }
  const Bunzip: {
    decode(input: InputStream | Uint8Array, output: OutputStream, multistream?: boolean): unknown;
  };
  export default Bunzip;
}
