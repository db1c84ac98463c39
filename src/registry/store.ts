import type { FunctionDocument, StoredDocument } from './types.js';

export type RegistryChange =
  | { readonly type: 'put'; readonly name: string; readonly stored: StoredDocument }
  | { readonly type: 'delete'; readonly name: string };

/**
 * Durable home of function documents. Implemented by the embedded SQLite backend and, in cluster
 * mode, by JetStream KV. Writes are compare-and-set on the document revision and claim the
 * document's routes atomically: a route belongs to at most one function.
 */
export interface RegistryStore {
  get(name: string): Promise<StoredDocument | undefined>;
  list(): Promise<StoredDocument[]>;
  /**
   * Write a document. expectedRevision null means "must not exist yet".
   * Throws ModelfnError CONFLICT when the revision moved or a route is owned by another function.
   */
  put(doc: FunctionDocument, expectedRevision: number | null): Promise<StoredDocument>;
  /** Remove a document and release its routes; false when it did not exist. */
  delete(name: string, expectedRevision?: number): Promise<boolean>;
  /** Changes made by this or (for clustered backends) any other node. */
  watch(listener: (change: RegistryChange) => void): () => void;
  close(): Promise<void>;
}
