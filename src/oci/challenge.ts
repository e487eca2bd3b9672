/** `WWW-Authenticate` challenges (RFC 7235) as registries send them: `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`. */

export interface Challenge {
  scheme: 'bearer' | 'basic';
  params: Record<string, string>;
}

const PARAM = /([A-Za-z][\w-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)/y;

/** Parses one header value or several; the Bearer challenge wins over Basic when both are offered. */
export function parseChallenges(header: string | string[] | undefined): Challenge | undefined {
  const found: Challenge[] = [];
  for (const value of Array.isArray(header) ? header : header ? [header] : []) {
    let pos = 0;
    while (pos < value.length) {
      const scheme = /\s*,?\s*([A-Za-z][\w-]*)/y;
      scheme.lastIndex = pos;
      const s = scheme.exec(value);
      if (!s) break;
      pos = scheme.lastIndex;
      const params: Record<string, string> = {};
      for (;;) {
        const sep = /\s*,?\s*/y;
        sep.lastIndex = pos;
        sep.exec(value);
        PARAM.lastIndex = sep.lastIndex;
        const p = PARAM.exec(value);
        if (!p) break;
        const raw = p[2];
        params[p[1].toLowerCase()] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
        pos = PARAM.lastIndex;
      }
      const name = s[1].toLowerCase();
      if (name === 'bearer' || name === 'basic') found.push({ scheme: name, params });
    }
  }
  return found.find((c) => c.scheme === 'bearer') ?? found[0];
}
