import ArgumentParser
import ConvVizRender

/// Which of a figure's own words a command lets the user set. A figure value that has
/// no title (or caption) yet does not get a faked one: its command hides the option
/// and refuses it.
protocol FigureTextSupport {
    static var title: Bool { get }
    static var caption: Bool { get }
}

/// The figure draws a title and a caption that the user may replace.
enum TitleAndCaption: FigureTextSupport { static var title: Bool { true }; static var caption: Bool { true } }
/// The figure draws a title the user may replace; its caption is fixed.
enum TitleOnly: FigureTextSupport { static var title: Bool { true }; static var caption: Bool { false } }
/// The figure's words are all fixed (they state what it shows).
enum FixedText: FigureTextSupport { static var title: Bool { false }; static var caption: Bool { false } }

extension Language: ExpressibleByArgument {}

/// Title, caption and label language of a figure (`--title`, `--caption`, `--lang`).
struct FigureTextOptions<Support: FigureTextSupport>: ParsableArguments {
    @Option(help: ArgumentHelp("Title above the figure (default: one naming what is drawn).",
                               visibility: Support.title ? .default : .private))
    var title: String?

    @Option(help: ArgumentHelp("Caption under the figure (default: one saying how it was made).",
                               visibility: Support.caption ? .default : .private))
    var caption: String?

    @Option(help: "Language of the figure's words: en (English) or zh (Chinese: titles, axis labels and captions).")
    var lang: Language = .en

    /// The user's words for a figure value.
    var figureText: FigureText { FigureText(title: title, caption: caption, language: lang) }

    func validate() throws {
        if title != nil && !Support.title { throw ValidationError("--title: this figure's title is fixed") }
        if caption != nil && !Support.caption { throw ValidationError("--caption: this figure's caption is fixed") }
    }
}
