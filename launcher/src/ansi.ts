/**
 * The few ANSI colours the launcher uses. Callers decide whether colour is on.
 */

/** SGR codes by name. */
export const ANSI = {
  bold: '1',
  dim: '2',
  red: '31',
  green: '32',
  yellow: '33',
  blue: '34',
  magenta: '35',
  cyan: '36',
  gray: '90',
  brightGreen: '92',
  brightYellow: '93',
  brightBlue: '94',
  brightMagenta: '95',
  brightCyan: '96',
  whiteOnRed: '97;41',
} as const;

/** One of {@link ANSI}'s names. */
export type AnsiStyle = keyof typeof ANSI;

/** Wraps `text` in the SGR code of `style` when `enabled`; returns it unchanged otherwise. */
export function paint(text: string, style: AnsiStyle, enabled: boolean): string {
  return enabled ? `\u001b[${ANSI[style]}m${text}\u001b[0m` : text;
}
