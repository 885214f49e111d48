/**
 * Plots for the notebooks: pure builders that return Plotly figure JSON (line plots,
 * scatter by class, heatmaps, bar charts, animations, network diagrams), `showFigure` to
 * display one as a single bundle (in a kernel: Plotly JSON, self-drawing HTML, PNG and text),
 * image grids encoded straight to PNG, and result tables as Markdown.
 */
export type { PlotlyTrace, PlotlyLayout, PlotlyFrame, PlotlyFigure, FigureOptions, NumericInput, MatrixInput, LabelInput } from "./plots/common";
export {
  DEFAULT_FIGURE_WIDTH,
  DEFAULT_FIGURE_HEIGHT,
  CATEGORY_COLORS,
  NEGATIVE_COLOR,
  POSITIVE_COLOR,
  DIVERGING_COLORSCALE,
  categoryColor,
} from "./plots/common";
export * from "./plots/figures";
export * from "./plots/panels";
export * from "./plots/animation";
export * from "./plots/network";
export * from "./plots/table";
// resetPlotlyLoader (tests only) stays in plots/show.ts.
export { PLOTLY_MIME_TYPE, describeFigure, figureJson, showFigure, imageGrid, showImageGrid } from "./plots/show";
export type { ShowFigureOptions, ImageGridResult } from "./plots/show";
