import type { InvokeRequest, InvokeResponse, LambdaError } from '../runtime.js';
import { InitFailure } from '../runtime.js';

/** A parked `GET /runtime/invocation/next`: the server writes the event when one arrives. */
export interface NextWaiter {
  /** Send the event; false when the client has gone away (the event is kept for the next poll). */
  deliver(request: InvokeRequest): boolean;
}

/** What the Runtime API answers to a POST: 202, or one of its documented refusals. */
export type Answer =
  | { readonly status: 202 }
  | { readonly status: 400 | 403 | 413; readonly errorType: string; readonly errorMessage: string };

const ACCEPTED: Answer = { status: 202 };

interface Pending {
  readonly request: InvokeRequest;
  delivered: boolean;
  resolve(response: InvokeResponse): void;
  reject(err: Error): void;
}

/**
 * The Runtime API's state for one instance, without HTTP: the init phase ends with the first
 * `next` (ready) or an `init/error`; afterwards one invocation at a time is handed to a `next` and
 * answered exactly once by `response` or `error`.
 *
 * Refusals follow the runtime interface emulator: an id this instance was never given is
 * `400 InvalidRequestID`; a second answer for the same id, an answer outside an invocation, or an
 * init error after init are `403 InvalidStateTransition`. A `next` while an invocation is still
 * unanswered is parked (as Lambda does): the invocation keeps waiting for its answer, bounded by
 * the function's timeout.
 */
export class InvocationSession {
  readonly ready: Promise<void>;
  private initialised = false;
  private finished = false;
  private readyWaiter: { resolve(): void; reject(err: Error): void } | undefined;
  private waiter: NextWaiter | undefined;
  private pending: Pending | undefined;
  /** Ids handed to this instance, newest last (bounded: ids are random and never reused). */
  private readonly issued: string[] = [];

  constructor(private readonly rememberIds = 64) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.readyWaiter = { resolve, reject };
    });
    // The instance may die before anyone awaits ready; the rejection is observed there.
    this.ready.catch(() => undefined);
  }

  get busy(): boolean {
    return this.pending !== undefined;
  }

  /** `GET /next`: returns a refusal, or undefined when the waiter was served or parked. */
  onNext(waiter: NextWaiter): Answer | undefined {
    if (this.finished) return refuse(403, 'InvalidStateTransition', 'the instance is shutting down');
    if (this.waiter) return refuse(403, 'InvalidStateTransition', 'another /next is already waiting for this instance');
    if (!this.initialised) {
      this.initialised = true;
      this.readyWaiter?.resolve();
      this.readyWaiter = undefined;
    }
    if (this.pending && !this.pending.delivered && waiter.deliver(this.pending.request)) {
      this.pending.delivered = true;
      return undefined;
    }
    this.waiter = waiter;
    return undefined;
  }

  /** The client of a parked `next` went away. */
  cancelNext(waiter: NextWaiter): void {
    if (this.waiter === waiter) this.waiter = undefined;
  }

  /** Hand an event to the runtime; resolves with its answer. */
  dispatch(request: InvokeRequest): Promise<InvokeResponse> {
    if (this.pending) return Promise.reject(new Error(`instance is busy with ${this.pending.request.requestId}`));
    return new Promise<InvokeResponse>((resolve, reject) => {
      const pending: Pending = { request, delivered: false, resolve, reject };
      this.pending = pending;
      this.issued.push(request.requestId);
      if (this.issued.length > this.rememberIds) this.issued.shift();
      const waiter = this.waiter;
      if (waiter) {
        this.waiter = undefined;
        pending.delivered = waiter.deliver(request);
      }
    });
  }

  onResponse(id: string, payload: Buffer): Answer {
    const refusal = this.checkAnswer(id);
    if (refusal) return refusal;
    this.settle({ ok: true, payload });
    return ACCEPTED;
  }

  onError(id: string, error: LambdaError): Answer {
    const refusal = this.checkAnswer(id);
    if (refusal) return refusal;
    this.settle({ ok: false, error });
    return ACCEPTED;
  }

  /** A response over the payload limit: the caller gets Lambda's error, the runtime a 413. */
  onResponseTooLarge(id: string, limit: number): Answer {
    const refusal = this.checkAnswer(id);
    if (refusal) return refusal;
    this.settle({
      ok: false,
      error: {
        errorType: 'Function.ResponseSizeTooLarge',
        errorMessage: `Response payload size exceeded maximum allowed payload size (${limit} bytes).`,
      },
    });
    return refuse(413, 'RequestEntityTooLarge', `Exceeded maximum allowed payload size (${limit} bytes).`);
  }

  onInitError(error: LambdaError): Answer {
    if (this.initialised || this.finished) {
      return refuse(403, 'InvalidStateTransition', 'init/error is only accepted during the init phase (before the first /next)');
    }
    this.finished = true;
    this.readyWaiter?.reject(new InitFailure(error));
    this.readyWaiter = undefined;
    return ACCEPTED;
  }

  /** The instance is gone (exit, kill, init timeout): fail whatever waits. */
  close(initError: Error, invokeError: Error): void {
    this.finished = true;
    this.waiter = undefined;
    this.readyWaiter?.reject(initError);
    this.readyWaiter = undefined;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(invokeError);
  }

  private checkAnswer(id: string): Answer | undefined {
    const pending = this.pending;
    if (pending && pending.request.requestId === id && pending.delivered) return undefined;
    if (!this.issued.includes(id) || (pending && pending.request.requestId === id)) {
      return refuse(400, 'InvalidRequestID', 'Invalid request ID');
    }
    return refuse(403, 'InvalidStateTransition', `request ${id} was already answered: one request id is answered once`);
  }

  private settle(response: InvokeResponse): void {
    const pending = this.pending!;
    this.pending = undefined;
    pending.resolve(response);
  }
}

function refuse(status: 400 | 403 | 413, errorType: string, errorMessage: string): Answer {
  return { status, errorType, errorMessage };
}
