import type { AccountContext } from '../../registry/arn.js';

/** The event EventBridge delivers for a scheduled rule. */
export function scheduledEvent(account: AccountContext, ruleName: string, scheduledAt: number, id: string): Record<string, unknown> {
  return {
    version: '0',
    id,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: account.accountId,
    time: new Date(scheduledAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: account.region,
    resources: [ruleArn(account, ruleName)],
    detail: {},
  };
}

export function ruleArn(account: AccountContext, ruleName: string): string {
  return `arn:aws:events:${account.region}:${account.accountId}:rule/${ruleName}`;
}
