import { createHash } from 'node:crypto';

/**
 * Commands carry platform task ids (UUIDs) while tests name their tasks: `idOf` gives each
 * name one stable UUID (version 4 layout, derived from the name), `nameOf` reads it back (an
 * id it did not give stays as it is).
 */
export class TaskNames {
  private readonly names = new Map<string, string>();

  // Bound, so a test can take them apart: `const { idOf, nameOf } = new TaskNames()`.
  readonly idOf = (name: string): string => {
    const hex = createHash('sha256').update(name).digest('hex');
    const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
    this.names.set(id, name);
    return id;
  };

  readonly nameOf = (id: string): string => this.names.get(id) ?? id;
}
