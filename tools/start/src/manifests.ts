import { readFileSync } from 'node:fs';

/** Replaces every `${NAME}` in a manifest template; an unknown name is an error, not an empty string. */
export function render(template: string, values: Readonly<Record<string, string>>, file: string): string {
  return template.replace(/\$\{([A-Z0-9_]+)\}/g, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`${file}: no value for \${${name}}`);
    return value;
  });
}

export function renderFile(path: string, values: Readonly<Record<string, string>>): string {
  return render(readFileSync(path, 'utf8'), values, path);
}

/** The worker endpoint of ateom's forwarded network `index` (docs/sandbox.md): 169.254.128.0/17 + 4·index + 2. */
export function endpointAddress(index: number): string {
  const n = 4 * index + 2;
  return `169.254.${128 + Math.floor(n / 256)}.${n % 256}`;
}
