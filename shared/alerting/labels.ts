import type { Labels } from './groups';
import type { Rule } from './rules';

/** Labels receivers and silences see: alertname, the rule's labels, the group's, and the severity. */
export function alertLabels(rule: Rule, group: Labels | Record<string, string>, severity: string | null): Record<string, string> {
  return { alertname: rule.name, ...rule.labels, ...(group as Record<string, string>), ...(severity ? { severity } : {}) };
}
