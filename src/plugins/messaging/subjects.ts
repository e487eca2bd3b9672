import { InvalidSubjectError } from './errors.ts';

// NATS subjects: dot-separated tokens, none empty, no whitespace. `*` and `>` are wildcards only
// as whole tokens (`>` only last), and only in subscriptions.

function tokensOf(subject: string, what: string): string[] {
  if (subject === '') throw new InvalidSubjectError(`${what} is empty`);
  if (/\s/.test(subject)) throw new InvalidSubjectError(`${what} ${JSON.stringify(subject)} contains whitespace`);
  const tokens = subject.split('.');
  if (tokens.includes('')) throw new InvalidSubjectError(`${what} ${JSON.stringify(subject)} has an empty token`);
  return tokens;
}

/** Checks a subject to publish or request on: no wildcards. */
export function checkSubject(subject: string): void {
  const tokens = tokensOf(subject, 'subject');
  if (tokens.some((t) => t === '*' || t === '>')) {
    throw new InvalidSubjectError(`subject ${JSON.stringify(subject)} has a wildcard: only subscriptions may`);
  }
}

/** Checks a subscription pattern and returns its tokens. */
export function patternTokens(pattern: string): string[] {
  const tokens = tokensOf(pattern, 'subscription subject');
  const tail = tokens.indexOf('>');
  if (tail !== -1 && tail !== tokens.length - 1) {
    throw new InvalidSubjectError(`subscription subject ${JSON.stringify(pattern)}: ">" must be the last token`);
  }
  return tokens;
}

/** Whether a (checked) subject matches a pattern's tokens. */
export function subjectMatches(pattern: readonly string[], subject: string): boolean {
  const tokens = subject.split('.');
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === '>') return tokens.length > i;
    if (i >= tokens.length || (pattern[i] !== '*' && pattern[i] !== tokens[i])) return false;
  }
  return tokens.length === pattern.length;
}

/** Checks a queue group name: NATS takes any non-empty name without whitespace. */
export function checkQueueName(queue: string): void {
  if (queue === '') throw new InvalidSubjectError('queue group name is empty');
  if (/\s/.test(queue)) throw new InvalidSubjectError(`queue group name ${JSON.stringify(queue)} contains whitespace`);
}
