import Foundation

/// A training report as one self-contained HTML page (inline style and SVG, no script, no
/// request): facts about the run, curves per epoch with the best epoch and an early stop marked,
/// and sections of tables or text. `fit(report:)` writes one; `recurrent train` writes one
/// beside every model with the task's own views.
public struct TrainingReport {
    public struct Series {
        public var name: String
        /// One value per epoch (nil where there is none).
        public var values: [Double?]
        public var dashed: Bool

        public init(_ name: String, _ values: [Double?], dashed: Bool = false) {
            (self.name, self.values, self.dashed) = (name, values, dashed)
        }
    }

    public struct Chart {
        public var title: String
        public var series: [Series]
        public var logScale: Bool
        /// Drawn at the page's full width (a long series).
        public var wide: Bool

        public init(_ title: String, _ series: [Series], logScale: Bool = false, wide: Bool = false) {
            (self.title, self.series, self.logScale, self.wide) = (title, series, logScale, wide)
        }
    }

    public var title: String
    public var facts: [(String, String)]
    public var charts: [Chart]
    /// Epochs numbered from 1, as the progress lines count them.
    public var bestEpoch: Int?
    public var stoppedEarlyAt: Int?
    /// Titled sections of ready HTML (use `table` and `escape`).
    public var sections: [(title: String, html: String)]

    public init(
        title: String, facts: [(String, String)], charts: [Chart], bestEpoch: Int? = nil, stoppedEarlyAt: Int? = nil,
        sections: [(title: String, html: String)] = []
    ) {
        self.title = title
        self.facts = facts
        self.charts = charts
        self.bestEpoch = bestEpoch
        self.stoppedEarlyAt = stoppedEarlyAt
        self.sections = sections
    }

    /// Okabe and Ito's colour-blind-safe palette.
    static let palette = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"]

    public func html() -> String {
        let facts = self.facts.map { "<tr><th>\(Self.escape($0.0))</th><td>\(Self.escape($0.1))</td></tr>" }.joined()
        let charts = self.charts.map { "<figure>\(chartSVG($0))<figcaption>\(Self.escape($0.title))</figcaption></figure>" }.joined()
        let sections = self.sections.map { "<section><h2>\(Self.escape($0.title))</h2>\($0.html)</section>" }.joined(separator: "\n")
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(Self.escape(title))</title>
            <style>
            body { margin: 0; padding: 16px 24px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1b1b; background: #fbfbfa; }
            h1 { font-size: 20px; margin: 0 0 10px; } h2 { font-size: 15px; margin: 0 0 8px; }
            section { background: #fff; border: 1px solid #d0d0d0; border-radius: 6px; padding: 10px 14px; margin: 0 0 14px; overflow-x: auto; }
            table { border-collapse: collapse; font-variant-numeric: tabular-nums; } th, td { text-align: left; padding: 2px 10px 2px 0; vertical-align: top; }
            table.grid td, table.grid th { border: 1px solid #ddd; padding: 2px 6px; text-align: right; }
            .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 10px; }
            figure { margin: 0; } figcaption { color: #5a5a5a; font-size: 12.5px; }
            svg text { font: 11px system-ui, sans-serif; fill: #1b1b1b; }
            pre { white-space: pre-wrap; font-size: 12.5px; background: #f4f4f2; padding: 6px; border-radius: 4px; }
            .note { color: #5a5a5a; font-size: 12.5px; }
            </style></head><body>
            <h1>\(Self.escape(title))</h1>
            <section><table>\(facts)</table></section>
            <section><h2>Training</h2><p class="note">Per epoch\(bestEpoch.map { "; the best epoch (\($0)) is marked" } ?? "")\(stoppedEarlyAt.map { "; stopped early after epoch \($0)" } ?? "").</p><div class="charts">\(charts)</div></section>
            \(sections)
            </body></html>

            """
    }

    /// One chart as inline SVG; the best epoch and an early stop are marked on epoch charts.
    public func chartSVG(_ chart: Chart, xLabel: String = "epoch") -> String {
        // The legend: names side by side, wrapping onto more rows below the axis.
        var legend: [(x: Double, row: Int)] = []
        var cursor = 0.0, row = 0
        for series in chart.series {
            let needed = Double(series.name.count) * 6.2 + 18
            if cursor > 0 && cursor + needed > 300 { (cursor, row) = (0, row + 1) }
            legend.append((cursor, row))
            cursor += needed
        }
        let rows = Double((legend.map(\.row).max() ?? 0) + 1)
        let (width, height, left, bottom, top) = (chart.wide ? 900.0 : 340.0, 176.0 + 14 * rows, 52.0, 20.0 + 14 * rows, 10.0)
        let epochs = chart.series.map(\.values.count).max() ?? 0
        func y(_ v: Double) -> Double { chart.logScale ? Foundation.log10(Swift.max(v, 1e-30)) : v }
        let values = chart.series.flatMap { $0.values.compactMap { $0 } }.filter(\.isFinite).filter { !chart.logScale || $0 > 0 }.map(y)
        guard epochs > 0, let low = values.min(), let high = values.max() else { return "<p class=\"note\">no values</p>" }
        let span = high - low > 1e-12 * Swift.max(abs(high), 1) ? high - low : Swift.max(abs(high) * 0.2, 1e-12)
        let (lo, hi) = (low - 0.05 * span, high + 0.05 * span)
        let plotW = width - left - 10, plotH = height - bottom - top
        func px(_ epoch: Int) -> Double { left + (epochs == 1 ? plotW / 2 : Double(epoch) * plotW / Double(epochs - 1)) }
        func py(_ v: Double) -> Double { top + (hi - y(v)) / (hi - lo) * plotH }
        var parts = ["<svg width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\">"]
        parts.append("<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotW)\" height=\"\(plotH)\" fill=\"none\" stroke=\"#ccc\"/>")
        for fraction in [0.0, 0.5, 1.0] {
            let v = lo + fraction * (hi - lo), shown = chart.logScale ? Foundation.pow(10, v) : v
            parts.append("<text x=\"\(left - 4)\" y=\"\(top + (1 - fraction) * plotH + 4)\" text-anchor=\"end\">\(Self.number(shown))</text>")
        }
        let axis = top + plotH + 14
        parts.append("<text x=\"\(left)\" y=\"\(axis)\">1</text><text x=\"\(left + plotW)\" y=\"\(axis)\" text-anchor=\"end\">\(epochs)</text>")
        parts.append("<text x=\"\(left + plotW / 2)\" y=\"\(axis)\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>")
        if xLabel == "epoch", let best = bestEpoch, best >= 1, best <= epochs {
            parts.append("<line x1=\"\(px(best - 1))\" x2=\"\(px(best - 1))\" y1=\"\(top)\" y2=\"\(top + plotH)\" stroke=\"#009e73\" stroke-dasharray=\"3 3\"/>")
        }
        if xLabel == "epoch", let stop = stoppedEarlyAt, stop >= 1, stop <= epochs {
            parts.append("<line x1=\"\(px(stop - 1))\" x2=\"\(px(stop - 1))\" y1=\"\(top)\" y2=\"\(top + plotH)\" stroke=\"#d55e00\" stroke-dasharray=\"1 3\"/>")
        }
        for (index, series) in chart.series.enumerated() {
            let colour = Self.palette[index % Self.palette.count]
            let points = series.values.enumerated().compactMap { e, v -> String? in
                guard let v, v.isFinite, !chart.logScale || v > 0 else { return nil }
                return "\(px(e)),\(py(v))"
            }
            if points.count == 1 {
                let xy = points[0].split(separator: ",")
                parts.append("<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"3\" fill=\"\(colour)\"/>")
            } else {
                parts.append("<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"\(series.dashed ? " stroke-dasharray=\"5 3\"" : "")/>")
            }
            let (x, row) = legend[index], y = axis + 16 + 14 * Double(row)
            parts.append("<line x1=\"\(8 + x)\" x2=\"\(20 + x)\" y1=\"\(y - 4)\" y2=\"\(y - 4)\" stroke=\"\(colour)\" stroke-width=\"2\"\(series.dashed ? " stroke-dasharray=\"4 2\"" : "")/>")
            parts.append("<text x=\"\(24 + x)\" y=\"\(y)\">\(Self.escape(series.name))</text>")
        }
        parts.append("</svg>")
        return parts.joined()
    }

    static func number(_ v: Double) -> String {
        let a = abs(v)
        if a != 0 && (a < 1e-3 || a >= 1e5) { return String(format: "%.1e", v) }
        return String(format: a < 1 ? "%.3f" : "%.4g", v)
    }

    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// An HTML table of escaped cells.
    public static func table(header: [String], rows: [[String]], grid: Bool = false) -> String {
        "<table\(grid ? " class=\"grid\"" : "")><tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr>"
            + rows.map { "<tr>" + $0.map { "<td>\(escape($0))</td>" }.joined() + "</tr>" }.joined() + "</table>"
    }

    /// Writes the page atomically.
    public func write(to path: String) throws {
        do {
            try Data(html().utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw RecurrentError.file(path: path, problem: "cannot be written (\(RecurrentError.reason(error)))")
        }
    }
}

extension History {
    /// Curves of every logged quantity: each metric beside its validation twin.
    public var reportCharts: [TrainingReport.Chart] {
        keys.filter { !$0.hasPrefix("val_") }.map { key in
            var series = [TrainingReport.Series(key, history[key]!.map { Double($0) })]
            if let validation = history["val_" + key] { series.append(.init("val_" + key, validation.map { Double($0) }, dashed: true)) }
            return TrainingReport.Chart(key, series, logScale: key == "loss")
        }
    }
}
