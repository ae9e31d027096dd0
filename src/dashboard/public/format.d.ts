/** Types of format.js (the browser module, also imported by the tests). */
export function roundDecimal(
  text: string,
  decimals: number,
): { neg: boolean; int: string; frac: string } | null;
export function usd(text: string | null | undefined, opts?: { decimals?: number; signed?: boolean }): string;
export function fee(text: string | null | undefined): string;
export function decimal(text: string | null | undefined, maxDecimals?: number): string;
export function pct(bps: number | null | undefined): string;
export function ratio(x: number | null | undefined): string;
export function duration(ms: number | null | undefined): string;
export function time(ts: number | null | undefined): string;
export function dateTime(ts: number | null | undefined): string;
export function day(ts: number): string;
export function plot(text: string | null | undefined): number | null;
