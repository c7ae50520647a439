import ConvVizCore

extension ReceptiveFieldOverlay {
    /// The caption's notes on the path to `layer`, in `language`: one per junction whose
    /// branches disagree in field, jump or centre (`ShapeTable`'s misaligned rows), and
    /// one when squeeze-excitation gates give the unit a summary of the whole image.
    public static func notes(table: ShapeTable, layer: Int, language l: Language) -> [String] {
        var notes = table.rows.prefix(layer + 1).filter { !$0.isAligned }.map { row in
            let branches = row.misalignedBranches.map { b in
                let (rf, jump, centre) = (ShapeTable.pair(b.receptiveField), ShapeTable.pair(b.jump), ShapeTable.pair(b.center))
                return l("\(b.from): RF \(rf), jump \(jump), centre \(centre)", "\(b.from)：感受野 \(rf)，跳距 \(jump)，中心 \(centre)")
            }
            return l("* \(row.name): branches disagree; ", "* \(row.name)：分支不一致；") + branches.joined(separator: l(" vs ", " 对 "))
        }
        if table.rows[layer].hasGlobalContext {
            notes.append(l("Squeeze-excitation gates also feed this unit a summary of the whole image; the boxes are its local field.",
                           "挤压-激励门控还为这个单元提供整幅图像的概要；方框是它的局部感受野。"))
        }
        return notes
    }
}
