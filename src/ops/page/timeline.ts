// The next 24 hours as an SVG picture: one row per job, a mark per fire, fires moved by daylight-saving time
// marked apart. The same trigger code as `run` computes the fires (as `tdefer next` does), on a virtual clock.
import { previewFires } from "../../scheduler/preview.js";
import type { JobView } from "../view.js";
import { escapeHtml } from "./escape.js";
import { wallTimeIn } from "./time.js";

const DAY_MS = 24 * 3_600_000;
/** Above this many fires in a day a row is drawn as a band: marks that close are a band anyway. */
const MAX_MARKS = 240;
const WIDTH = 1000;
const LABEL_WIDTH = 170;
const ROW_HEIGHT = 22;
const TOP = 24;

interface Mark {
  readonly timeMs: number;
  readonly moved: boolean;
}

/** The fires of one job in [fromMs, fromMs + 24h): undefined when there are too many to draw one by one. */
function firesOf(view: JobView, fileZone: string, fromMs: number): Mark[] | undefined {
  const { spec } = view;
  const untilMs = fromMs + DAY_MS;
  if (view.paused || !spec.enabled || view.nextMs === undefined) return [];
  const trigger = spec.trigger;
  if (trigger.kind === "every") {
    // The running grid: from the next fire on, every interval (a preview would anchor it at now instead).
    if (DAY_MS / trigger.intervalMs > MAX_MARKS) return undefined;
    const marks: Mark[] = [];
    for (let t = view.nextMs; t < untilMs; t += trigger.intervalMs) marks.push({ timeMs: t, moved: false });
    return marks;
  }
  if (trigger.kind === "after") return view.nextMs < untilMs ? [{ timeMs: view.nextMs, moved: false }] : [];
  const fires = previewFires(
    { file: "", zone: fileZone, maxParallel: undefined, jobs: [spec], warnings: [] },
    { fromMs, untilMs, count: MAX_MARKS + 1 },
  );
  if (fires.length > MAX_MARKS) return undefined;
  return fires.map((fire) => ({ timeMs: fire.timeMs, moved: fire.dst === "moved" }));
}

/** The SVG of the next 24 hours from `fromMs`, hours labelled in `zone`. */
export function renderTimeline(views: readonly JobView[], zone: string, fromMs: number): string {
  const trackWidth = WIDTH - LABEL_WIDTH - 10;
  const x = (timeMs: number): number => LABEL_WIDTH + ((timeMs - fromMs) / DAY_MS) * trackWidth;
  const height = TOP + views.length * ROW_HEIGHT + 6;
  const parts: string[] = [
    `<svg class="timeline" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="fires in the next 24 hours" xmlns="http://www.w3.org/2000/svg">`,
  ];
  // Hour lines every 3 hours, labelled in the file's zone.
  const firstHour = Math.ceil(fromMs / 3_600_000) * 3_600_000;
  for (let t = firstHour; t < fromMs + DAY_MS; t += 3_600_000) {
    const hour = wallTimeIn(t, zone).slice(11, 16);
    const left = x(t).toFixed(1);
    const major = hour.endsWith(":00") && Number(hour.slice(0, 2)) % 3 === 0;
    parts.push(
      `<line x1="${left}" y1="${TOP - 4}" x2="${left}" y2="${height}" class="${major ? "tick major" : "tick"}"/>`,
    );
    if (major) parts.push(`<text x="${left}" y="14" class="hour">${hour}</text>`);
  }
  views.forEach((view, index) => {
    const y = TOP + index * ROW_HEIGHT;
    const name = escapeHtml(view.spec.name);
    parts.push(
      `<text x="4" y="${y + 15}" class="label">${name.length > 24 ? `${name.slice(0, 23)}…` : name}</text>`,
    );
    parts.push(`<line x1="${LABEL_WIDTH}" y1="${y + 11}" x2="${WIDTH - 10}" y2="${y + 11}" class="track"/>`);
    const marks = firesOf(view, zone, fromMs);
    if (marks === undefined) {
      parts.push(
        `<rect x="${LABEL_WIDTH}" y="${y + 6}" width="${trackWidth}" height="10" class="band"><title>${name}: fires more than ${MAX_MARKS} times a day</title></rect>`,
      );
      return;
    }
    if (view.paused) {
      parts.push(`<text x="${LABEL_WIDTH + 4}" y="${y + 15}" class="paused">paused</text>`);
      return;
    }
    for (const mark of marks) {
      const left = x(mark.timeMs).toFixed(1);
      const when = escapeHtml(`${wallTimeIn(mark.timeMs, zone)} ${zone}`);
      parts.push(
        `<rect x="${left}" y="${y + 4}" width="3" height="14" class="${mark.moved ? "fire moved" : "fire"}"><title>${name} ${when}${mark.moved ? " (moved by daylight-saving time)" : ""}</title></rect>`,
      );
    }
  });
  parts.push("</svg>");
  return parts.join("");
}
