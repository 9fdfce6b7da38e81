/**
 * The task-key prefix a project gets when the client gives none: the initials of its name,
 * upper-cased and without accents ("Devpie client core" → "DCC"), at most ten, starting with a
 * letter as the contract requires; `P` when the name has no Latin letter to take.
 */
export function defaultPrefix(name: string): string {
  const words = name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter(Boolean);
  const initials = words
    .map((w) => w[0])
    .join('')
    .replace(/^[0-9]+/, '')
    .slice(0, 10);
  return initials || 'P';
}
