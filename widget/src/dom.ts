/* Small DOM helpers for the widget's drawing code. Children given as strings become
 * text nodes: nothing here parses markup. */

type Attrs = Record<string, string>;
type Kid = Node | string;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...kids: Kid[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const k of Object.keys(attrs)) el.setAttribute(k, attrs[k]!);
  for (const kid of kids) el.append(kid); // a string becomes a text node
  return el;
}

export const ICONS = {
  chat: "M4 5h16v11H9l-5 4z",
  close: "M6 6l12 12M18 6L6 18",
  clip: "M16 7l-6.5 6.5a2 2 0 0 0 2.8 2.8L19 9.6a4 4 0 0 0-5.7-5.7L6.6 10.6a6 6 0 0 0 8.5 8.5L21 13.2",
  send: "M4 12l16-8-6 16-2-7z",
};

export function icon(d: string): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  const path = document.createElementNS(ns, "path");
  for (const [k, v] of [
    ["viewBox", "0 0 24 24"],
    ["fill", "none"],
    ["stroke", "currentColor"],
    ["stroke-width", "2"],
    ["stroke-linecap", "round"],
    ["stroke-linejoin", "round"],
    ["aria-hidden", "true"],
  ]) {
    svg.setAttribute(k!, v!);
  }
  path.setAttribute("d", d);
  svg.append(path);
  return svg;
}

/** Black or white, whichever reads on the brand color. */
export function ink(hex: string): string {
  const n = parseInt(hex.slice(1), 16);
  const y = 0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255);
  return y > 160 ? "#111" : "#fff";
}

export function size(n: number): string {
  return n < 1024 ? `${n} B` : n < 1048576 ? `${Math.round(n / 1024)} KB` : `${(n / 1048576).toFixed(1)} MB`;
}

export function clock(at: string): string {
  const d = new Date(at);
  return isNaN(d.getTime()) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}
