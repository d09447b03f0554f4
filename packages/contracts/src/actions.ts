/**
 * Actions policies name. `service:Verb`. Patterns in policies may use `*` (e.g. `kafka:*`,
 * `kafka:Describe*`).
 */
export const ACTIONS = [
  'kafka:CreateInstance',
  'kafka:DescribeInstance',
  'kafka:ListInstances',
  'kafka:ModifyInstance',
  'kafka:DeleteInstance',
  'kafka:RestartInstance',
  'kafka:ModifyInstanceRoutes',
  'kafka:DescribeAutoscaling',
  'kafka:ModifyAutoscaling',
  'kafka:CreateConnector',
  'kafka:DescribeConnector',
  'kafka:ListConnectors',
  'kafka:ModifyConnector',
  'kafka:DeleteConnector',
  'kafka:CreateTopic',
  'kafka:DescribeTopic',
  'kafka:ListTopics',
  'kafka:ModifyTopic',
  'kafka:DeleteTopic',
  'kafka:CreateUser',
  'kafka:ListUsers',
  'kafka:DeleteUser',
  'kafka:CreateAcl',
  'kafka:ListAcls',
  'kafka:DeleteAcl',
  'kafka:ListGroups',
  'kafka:DescribeGroup',
  'kafka:ResetGroupOffsets',
  'kafka:ReadMessages',
  'kafka:ProduceMessage',
  'kafka:DescribeOperation',
  'kafka:ListZones',
  'iam:CreateSubAccount',
  'iam:ListSubAccounts',
  'iam:DeleteSubAccount',
  'iam:CreatePolicy',
  'iam:ListPolicies',
  'iam:DeletePolicy',
  'iam:AttachPolicy',
  'iam:DetachPolicy',
  'iam:CreateApiKey',
  'iam:ListApiKeys',
  'iam:DeleteApiKey',
  'iam:CreateGrant',
  'iam:ListGrants',
  'iam:DeleteGrant',
  'audit:ListEvents',
  'monitor:GetMetrics',
  'monitor:ListAlarms',
  'monitor:CreateAlarm',
  'monitor:ModifyAlarm',
  'monitor:DeleteAlarm',
  'monitor:ListChannels',
  'monitor:CreateChannel',
  'monitor:DeleteChannel',
] as const;

export type Action = (typeof ACTIONS)[number];

/** The service an action belongs to: `kafka` of `kafka:CreateTopic`. */
export const serviceOf = (action: Action) => action.slice(0, action.indexOf(':'));

/**
 * The catalogued actions a policy's action pattern covers: `*` matches any run of characters, the
 * rest is literal (as access checks match them). A pattern that covers none is a typo.
 */
export function actionsMatching(pattern: string): Action[] {
  const body = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  const re = new RegExp(`^${body}$`);
  return ACTIONS.filter((a) => re.test(a));
}
