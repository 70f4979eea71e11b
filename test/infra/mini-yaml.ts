/**
 * A tiny YAML reader for docker-compose.yml: block mappings, block sequences of scalars, flow
 * sequences written as JSON (["a", "b"]), quoted and plain scalars, comments. Enough for our
 * compose file and nothing more; anything else it throws on, so an unexpected construct fails the
 * test instead of being misread. (No YAML package is a declared dependency.)
 */
export type YamlValue = string | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  indent: number;
  text: string;
  no: number;
}

function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) return line.slice(0, i);
  }
  return line;
}

function scalar(raw: string, no: number): YamlValue {
  const s = raw.trim();
  if (s.startsWith('[')) {
    try {
      return JSON.parse(s) as YamlValue[];
    } catch {
      throw new Error(`line ${no}: only JSON-style flow sequences are supported: ${s}`);
    }
  }
  if (s.startsWith('{')) throw new Error(`line ${no}: flow mappings are not supported`);
  if (s.startsWith('"')) return JSON.parse(s) as string;
  if (s.startsWith("'")) return s.slice(1, -1).replace(/''/g, "'");
  if (s === '|' || s === '>') throw new Error(`line ${no}: block scalars are not supported`);
  return s;
}

/** Splits `key: value` at the first colon outside quotes that is followed by a space or the end. */
function splitKey(text: string): [string, string] | undefined {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ':' && (i + 1 === text.length || text[i + 1] === ' ')) {
      return [
        text
          .slice(0, i)
          .trim()
          .replace(/^["']|["']$/g, ''),
        text.slice(i + 1).trim(),
      ];
    }
  }
  return undefined;
}

export function parseYaml(source: string): YamlValue {
  const lines: Line[] = [];
  source.split('\n').forEach((raw, i) => {
    if (raw.includes('\t')) throw new Error(`line ${i + 1}: tabs are not allowed in YAML indentation`);
    const text = stripComment(raw).trimEnd();
    if (text.trim() === '' || text.trim() === '---') return;
    lines.push({ indent: text.length - text.trimStart().length, text: text.trim(), no: i + 1 });
  });
  let pos = 0;

  function block(indent: number): YamlValue {
    const first = lines[pos];
    if (first.text.startsWith('- ') || first.text === '-') {
      const list: YamlValue[] = [];
      while (pos < lines.length && lines[pos].indent === indent && lines[pos].text.startsWith('-')) {
        const item = lines[pos].text.slice(1).trim();
        if (item === '' || splitKey(item))
          throw new Error(`line ${lines[pos].no}: only scalar list items are supported`);
        list.push(scalar(item, lines[pos].no));
        pos++;
      }
      return list;
    }
    const map: { [key: string]: YamlValue } = {};
    while (pos < lines.length && lines[pos].indent === indent) {
      const { text, no } = lines[pos];
      const kv = splitKey(text);
      if (!kv) throw new Error(`line ${no}: expected 'key: value', got ${text}`);
      const [key, value] = kv;
      if (key in map) throw new Error(`line ${no}: duplicate key ${key}`);
      pos++;
      if (value !== '') map[key] = scalar(value, no);
      else if (pos < lines.length && lines[pos].indent > indent) map[key] = block(lines[pos].indent);
      else if (pos < lines.length && lines[pos].indent === indent && lines[pos].text.startsWith('-')) {
        map[key] = block(indent); // a sequence may sit at its key's indentation
      } else map[key] = '';
    }
    if (pos < lines.length && lines[pos].indent > indent) {
      throw new Error(`line ${lines[pos].no}: unexpected indentation`);
    }
    return map;
  }

  if (lines.length === 0) return {};
  const doc = block(lines[0].indent);
  if (pos < lines.length) throw new Error(`line ${lines[pos].no}: unexpected content`);
  return doc;
}
