/**
 * Animations over training: Plotly frames with a slider and play/pause buttons. The first
 * frame is the figure's initial data, so a static render (the PNG) shows frame one.
 */
import { PlotlyFigure, PlotlyFrame, PlotlyTrace, FigureOptions, MatrixInput, LabelInput, baseLayout, baseConfig, axisStyle, quotedTitle, toLabels, orderedClasses } from "./common";
import { scatterTraces, ScatterOptions } from "./figures";

export interface AnimationOptions extends FigureOptions {
  xTitle?: string;
  yTitle?: string;
  /** Fixed x range; default: the range of every frame's x values plus 5 % (so axes do not jump). */
  xRange?: [number, number];
  /** Fixed y range; default as for x. */
  yRange?: [number, number];
  /** Milliseconds each frame stays when playing (default 400). */
  frameDuration?: number;
  /** Milliseconds of the transition between frames (default 200; 0 for none). */
  transitionDuration?: number;
  /** Text before the current frame's name on the slider (default ""). */
  sliderPrefix?: string;
  /** Layout attributes merged last (e.g. legend, scene for 3-D frames). */
  layout?: Record<string, unknown>;
}

/** Types whose frames animate without a full redraw. */
const SVG_TRACE_TYPES = new Set(["scatter", "bar"]);

function numericRange(frames: PlotlyFrame[], axis: "x" | "y"): [number, number] | null {
  let lo = Infinity, hi = -Infinity;
  for (const frame of frames) {
    for (const trace of frame.data) {
      const values = trace[axis];
      if (!Array.isArray(values)) continue;
      for (const v of values) {
        if (typeof v === "number" && Number.isFinite(v)) {
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      }
    }
  }
  if (lo > hi) return null;
  const margin = hi > lo ? 0.05 * (hi - lo) : Math.max(1, Math.abs(lo)) * 0.05;
  return [lo - margin, hi + margin];
}

/** A figure that plays `frames` (each {name, data} with the same traces) with a slider and play/pause buttons. */
export function animation(frames: ReadonlyArray<{ name: string | number; data: PlotlyTrace[]; layout?: Record<string, unknown> }>, options: AnimationOptions = {}): PlotlyFigure {
  if (frames.length === 0) throw new Error("animation: frames is empty; give at least one {name, data}");
  const shape = frames[0].data.map((t) => t.type);
  const names = new Set<string>();
  const list: PlotlyFrame[] = frames.map((frame, i) => {
    const name = String(frame.name);
    if (names.has(name)) throw new Error(`animation: frame name '${name}' is used twice; the slider needs unique names`);
    names.add(name);
    if (!Array.isArray(frame.data)) throw new Error(`animation: frame ${i} ('${name}') has no data array`);
    const types = frame.data.map((t) => t.type);
    if (types.length !== shape.length || types.some((t, k) => t !== shape[k])) {
      throw new Error(`animation: frame ${i} ('${name}') has traces [${types.join(", ")}], frame 0 has [${shape.join(", ")}]; every frame needs the same traces`);
    }
    return { name, data: frame.data, ...(frame.layout ? { layout: frame.layout } : {}) };
  });
  const redraw = shape.some((t) => !SVG_TRACE_TYPES.has(t));
  const frameDuration = options.frameDuration ?? 400;
  const transitionDuration = options.transitionDuration ?? 200;
  const xRange = options.xRange ?? numericRange(list, "x");
  const yRange = options.yRange ?? numericRange(list, "y");
  // The play/pause buttons (about 170 px) sit left of the slider on the same line.
  const width = options.width ?? 700;
  const sliderX = Math.min(0.5, 175 / Math.max(200, width - 200));
  const layout = baseLayout(options, {
    xaxis: axisStyle(options.xTitle, xRange ? { range: xRange, autorange: false } : {}),
    yaxis: axisStyle(options.yTitle, yRange ? { range: yRange, autorange: false } : {}),
    hovermode: "closest",
    margin: { l: 70, r: 30, t: options.title ? 60 : 30, b: 130 },
    updatemenus: [{
      type: "buttons",
      direction: "left",
      showactive: false,
      x: 0,
      xanchor: "left",
      y: 0,
      yanchor: "top",
      pad: { t: 68, r: 10 },
      buttons: [
        { label: "▶ Play", method: "animate", args: [null, { frame: { duration: frameDuration, redraw }, transition: { duration: transitionDuration, easing: "linear" }, fromcurrent: true, mode: "immediate" }] },
        { label: "❚❚ Pause", method: "animate", args: [[null], { frame: { duration: 0, redraw }, transition: { duration: 0 }, mode: "immediate" }] },
      ],
    }],
    sliders: [{
      active: 0,
      x: sliderX,
      len: 1 - sliderX,
      xanchor: "left",
      y: 0,
      yanchor: "top",
      pad: { t: 60, b: 10 },
      currentvalue: { visible: true, prefix: options.sliderPrefix ?? "", xanchor: "right", font: { size: 14 } },
      transition: { duration: transitionDuration, easing: "linear" },
      steps: list.map((frame) => ({
        label: frame.name,
        method: "animate",
        args: [[frame.name], { mode: "immediate", frame: { duration: transitionDuration, redraw }, transition: { duration: transitionDuration } }],
      })),
    }],
    ...(options.layout ?? {}),
  }, { height: 560 });
  const last = list[list.length - 1].name;
  return {
    data: list[0].data.map((trace) => ({ ...trace })),
    layout,
    frames: list,
    config: baseConfig(),
    description: `Animation${quotedTitle(options.title)}: ${list.length} frames (${list[0].name} … ${last}), ${shape.length} traces each; shown at '${list[0].name}'`,
  };
}

/** One frame of a scatter animation: its name (slider label) and the points at that time. */
export interface ScatterFrame {
  name: string | number;
  points: MatrixInput | ArrayLike<number>;
  /** Labels for this frame; default: the labels given to scatterAnimation. */
  labels?: LabelInput;
  highlight?: ScatterOptions["highlight"];
}

/** A 2-D scatter per frame (e.g. the latent codes after each epoch), coloured by class, as one animation. */
export function scatterAnimation(frames: ReadonlyArray<ScatterFrame>, labels: LabelInput | null | undefined, options: AnimationOptions & Omit<ScatterOptions, keyof FigureOptions> = {}): PlotlyFigure {
  if (frames.length === 0) throw new Error("scatterAnimation: frames is empty");
  // Read every label set once, and give every frame the union of classes so all frames have the same traces.
  const shared = labels === null || labels === undefined ? null : toLabels(labels, "scatterAnimation labels");
  const perFrame = frames.map((frame, i) => (frame.labels !== undefined ? toLabels(frame.labels, `scatterAnimation frame ${i} labels`) : shared));
  const classes = options.classes ?? (perFrame.some((l) => l) ? orderedClasses(perFrame.flatMap((l) => l ?? [])) : undefined);
  const built = frames.map((frame, i) => ({
    name: frame.name,
    data: scatterTraces(frame.points, perFrame[i], { ...options, classes, highlight: frame.highlight ?? options.highlight, dims: 2 }),
  }));
  const labelled = perFrame.some((l) => l !== null);
  return animation(built, {
    ...options,
    layout: {
      showlegend: labelled,
      legend: { title: { text: options.legendTitle ?? (labelled ? "class" : "") }, itemsizing: "constant" },
      ...(options.layout ?? {}),
    },
  });
}
