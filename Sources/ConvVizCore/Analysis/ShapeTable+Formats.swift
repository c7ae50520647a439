import Foundation

extension ShapeTable {
    public enum Format: String, CaseIterable, Sendable { case table, json, csv, markdown }

    static func number(_ v: Double) -> String {
        v == v.rounded() ? String(Int(v)) : String(format: "%g", v)
    }

    /// "3x3" for a per-axis receptive field, jump or centre.
    public static func pair(_ v: [Double]) -> String { v.map(number).joined(separator: "x") }

    /// `{"layers": [{"name", "type", "inputs", "output", "params", "macs", "receptive_field",
    /// "jump", "center", "aligned"[, "branches"]}], "total_params", "total_macs"}`;
    /// `branches` lists each input's field where misaligned branches meet.
    public func json() -> String {
        let layers: [[String: Any]] = rows.map { r in
            var d: [String: Any] = ["name": r.name, "type": r.type, "inputs": r.inputs, "output": r.output, "params": r.params, "macs": r.macs,
                                    "receptive_field": r.receptiveField.map(jsonNumber), "jump": r.jump.map(jsonNumber),
                                    "center": r.center.map(jsonNumber), "aligned": r.isAligned,
                                    "local_receptive_field": r.localReceptiveField.map(jsonNumber), "global_context": r.hasGlobalContext]
            if !r.isAligned {
                d["branches"] = r.misalignedBranches.map { b in
                    ["from": b.from, "receptive_field": b.receptiveField.map(jsonNumber), "jump": b.jump.map(jsonNumber), "center": b.center.map(jsonNumber)] as [String: Any]
                }
            }
            return d
        }
        let root: [String: Any] = ["input": input, "layers": layers, "total_params": totalParams, "total_macs": totalMACs]
        // Names, integers and finite doubles only: serialization cannot fail.
        let data = (try? JSONSerialization.data(withJSONObject: root, options: [.sortedKeys, .prettyPrinted])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// One line per misaligned junction, for the text formats.
    var misalignmentNotes: [String] { misalignmentNotes(upTo: rows.count - 1) }

    /// One line per misaligned junction among rows `0...last`.
    public func misalignmentNotes(upTo last: Int) -> [String] {
        rows.prefix(last + 1).filter { !$0.isAligned }.map { r in
            "* \(r.name): branches disagree; " + r.misalignedBranches.map { b in
                "\(b.from): RF \(Self.pair(b.receptiveField)), jump \(Self.pair(b.jump)), centre \(Self.pair(b.center))"
            }.joined(separator: " vs ")
        }
    }

    private func jsonNumber(_ v: Double) -> Any { v == v.rounded() && abs(v) < 1e15 ? Int(v) as Any : v as Any }

    var cells: [[String]] {
        rows.map { r in
            [r.name, r.type, r.output.map(String.init).joined(separator: "x"), String(r.params), String(r.macs),
             Self.pair(r.receptiveField) + (r.hasGlobalContext ? " (local \(Self.pair(r.localReceptiveField)))" : "") + (r.isAligned ? "" : "*"),
             Self.pair(r.jump), Self.pair(r.center)]
        }
    }

    static let header = ["layer", "type", "output", "params", "MACs", "RF", "jump", "center"]

    public func render(_ format: Format) -> String {
        switch format {
        case .json: return json() + "\n"
        case .csv:
            return ([Self.header] + cells).map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
        case .markdown:
            var s = "| " + Self.header.joined(separator: " | ") + " |\n|" + Self.header.map { _ in "---" }.joined(separator: "|") + "|\n"
            for c in cells { s += "| " + c.joined(separator: " | ") + " |\n" }
            return s + misalignmentNotes.map { "\n" + $0 + "\n" }.joined() + "\ninput \(input.map(String.init).joined(separator: "x")); total \(totalParams) parameters, \(totalMACs) multiply-adds per image\n"
        case .table:
            let all = [Self.header] + cells
            let widths = (0..<Self.header.count).map { i in all.map { $0[i].count }.max()! }
            var s = ""
            for (n, row) in all.enumerated() {
                s += zip(row, widths).enumerated().map { i, p in i >= 3 && i <= 4 ? String(repeating: " ", count: p.1 - p.0.count) + p.0 : p.0.padding(toLength: p.1, withPad: " ", startingAt: 0) }.joined(separator: "  ") + "\n"
                if n == 0 { s += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n" }
            }
            return s + misalignmentNotes.map { $0 + "\n" }.joined() + "input \(input.map(String.init).joined(separator: "x")); total \(totalParams) parameters, \(totalMACs) multiply-adds per image\n"
        }
    }
}
