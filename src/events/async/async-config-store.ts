import { parseFunctionReference } from '../../registry/arn.js';
import { own } from '../../shared/json.js';
import type { Registry } from '../../registry/registry.js';
import type { FunctionDocument } from '../../registry/types.js';
import type { Clock } from '../../shared/clock.js';
import { ModelfnError } from '../../shared/errors.js';
import { parseOrThrow } from '../../shared/validation.js';
import type { DeadLetterConfig, EventInvokeConfigInput, StoredEventInvokeConfig } from './event-invoke-config.js';
import { DEAD_LETTER_CONFIG, EVENT_INVOKE_CONFIGS, eventInvokeConfigSchema, deadLetterQueueOf, qualifierKey, storedConfigs, validateDestinations } from './event-invoke-config.js';

/** FunctionEventInvokeConfig as the Lambda API returns it. */
export interface EventInvokeConfigView extends StoredEventInvokeConfig {
  readonly FunctionArn: string;
}

/**
 * Reads and writes the async settings in function documents (compare-and-set through the
 * registry): Put replaces a qualifier's configuration, Update merges into it, as Lambda does.
 */
export class AsyncConfigStore {
  constructor(
    private readonly registry: Registry,
    private readonly clock: Clock,
  ) {}

  /** Resolve "name", "name:qualifier" or an ARN plus an optional Qualifier to the document and key. */
  target(functionRef: string, queryQualifier: string | undefined): { name: string; qualifier: string | undefined } {
    const ref = parseFunctionReference(decodeURIComponent(functionRef), this.registry.account);
    if (ref.qualifier && queryQualifier && ref.qualifier !== queryQualifier) {
      throw new ModelfnError('INVALID_PARAMETER', `the qualifier in the function name (${ref.qualifier}) and the Qualifier parameter (${queryQualifier}) differ`);
    }
    const qualifier = ref.qualifier ?? queryQualifier;
    const doc = this.mustGet(ref.name);
    if (qualifier && qualifier !== '$LATEST' && !own(doc.versions, qualifier) && !own(doc.aliases, qualifier)) {
      throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${this.arn(ref.name, qualifier)}`);
    }
    return { name: ref.name, qualifier };
  }

  async put(name: string, qualifier: string | undefined, body: unknown, merge: boolean): Promise<EventInvokeConfigView> {
    const input = parseOrThrow(eventInvokeConfigSchema, body ?? {}, 'event invoke config');
    validateDestinations(input, this.registry.account);
    const key = qualifierKey(qualifier);
    let stored: StoredEventInvokeConfig | undefined;
    await this.registry.update(name, (doc) => {
      if (!doc) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${this.arn(name)}`);
      const configs = storedConfigs(doc);
      const previous = own(configs, key);
      if (merge && !previous) throw new ModelfnError('RESOURCE_NOT_FOUND', `The function ${this.arn(name, qualifier)} doesn't have an EventInvokeConfig`);
      stored = merged(merge ? previous : undefined, input, Math.floor(this.clock.now() / 1000));
      return { ...doc, extensions: { ...doc.extensions, [EVENT_INVOKE_CONFIGS]: { ...configs, [key]: stored } } };
    });
    return this.view(name, qualifier, stored!);
  }

  get(name: string, qualifier: string | undefined): EventInvokeConfigView {
    const stored = storedConfigs(this.mustGet(name))[qualifierKey(qualifier)];
    if (!stored) throw new ModelfnError('RESOURCE_NOT_FOUND', `The function ${this.arn(name, qualifier)} doesn't have an EventInvokeConfig`);
    return this.view(name, qualifier, stored);
  }

  list(name: string): EventInvokeConfigView[] {
    return Object.entries(storedConfigs(this.mustGet(name)))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, stored]) => this.view(name, key === '$LATEST' ? undefined : key, stored));
  }

  async delete(name: string, qualifier: string | undefined): Promise<void> {
    const key = qualifierKey(qualifier);
    await this.registry.update(name, (doc) => {
      if (!doc) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${this.arn(name)}`);
      const configs = { ...storedConfigs(doc) };
      if (!own(configs, key)) throw new ModelfnError('RESOURCE_NOT_FOUND', `The function ${this.arn(name, qualifier)} doesn't have an EventInvokeConfig`);
      delete configs[key];
      return { ...doc, extensions: { ...doc.extensions, [EVENT_INVOKE_CONFIGS]: configs } };
    });
  }

  /** The function's dead-letter queue (Lambda's DeadLetterConfig.TargetArn); null removes it. */
  async setDeadLetter(name: string, targetArn: string | null): Promise<void> {
    if (targetArn !== null) deadLetterQueueOf(targetArn, this.registry.account);
    await this.registry.update(name, (doc) => {
      if (!doc) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${this.arn(name)}`);
      const extensions = { ...doc.extensions };
      if (targetArn === null) delete extensions[DEAD_LETTER_CONFIG];
      else extensions[DEAD_LETTER_CONFIG] = { TargetArn: targetArn } satisfies DeadLetterConfig;
      return { ...doc, extensions };
    });
  }

  private view(name: string, qualifier: string | undefined, stored: StoredEventInvokeConfig): EventInvokeConfigView {
    return { FunctionArn: this.arn(name, qualifier ?? '$LATEST'), ...stored };
  }

  private mustGet(name: string): FunctionDocument {
    const doc = this.registry.get(name);
    if (!doc) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${this.arn(name)}`);
    return doc;
  }

  private arn(name: string, qualifier?: string): string {
    return `arn:aws:lambda:${this.registry.account.region}:${this.registry.account.accountId}:function:${name}${qualifier ? `:${qualifier}` : ''}`;
  }
}

function merged(previous: StoredEventInvokeConfig | undefined, input: EventInvokeConfigInput, now: number): StoredEventInvokeConfig {
  const retries = input.MaximumRetryAttempts ?? previous?.MaximumRetryAttempts;
  const age = input.MaximumEventAgeInSeconds ?? previous?.MaximumEventAgeInSeconds;
  const onSuccess = input.DestinationConfig?.OnSuccess ?? previous?.DestinationConfig?.OnSuccess;
  const onFailure = input.DestinationConfig?.OnFailure ?? previous?.DestinationConfig?.OnFailure;
  return {
    ...(retries !== undefined ? { MaximumRetryAttempts: retries } : {}),
    ...(age !== undefined ? { MaximumEventAgeInSeconds: age } : {}),
    DestinationConfig: { OnSuccess: onSuccess?.Destination ? onSuccess : {}, OnFailure: onFailure?.Destination ? onFailure : {} },
    LastModified: now,
  };
}
