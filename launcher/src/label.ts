/**
 * The column that starts every printed line: `gateway#1          | `, coloured per service.
 */
import { serviceSpec } from '@tasks/contracts';
import { paint, type AnsiStyle } from './ansi';

/** The label of the launcher's own lines. */
export const LAUNCHER_LABEL = 'launcher';

/** Builds padded, optionally coloured prefixes for a fixed set of labels. */
export class LabelFormatter {
  private readonly width: number;

  /**
   * @param labels every label that will be printed, so that all columns line up
   * @param color whether to colour the labels
   */
  constructor(
    labels: readonly string[],
    private readonly color: boolean,
  ) {
    this.width = Math.max(LAUNCHER_LABEL.length, ...labels.map((label) => label.length));
  }

  /** The prefix for `label`, e.g. `gateway#1           | ` (the service's manifest colour). */
  prefix(label: string): string {
    const service = label.split('#')[0] ?? '';
    const style: AnsiStyle = serviceSpec(service)?.colour ?? 'bold';
    return `${paint(label.padEnd(this.width), style, this.color)} ${paint('|', 'dim', this.color)} `;
  }
}

/** Puts `prefix` in front of every line of `text`. */
export function prefixLines(prefix: string, text: string): string {
  return text
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}
