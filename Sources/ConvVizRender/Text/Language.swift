/// The language of a figure's words: titles, axis labels, legends and captions.
/// Figures keep both versions of each sentence side by side where it is used
/// (`language("Stride", "步幅")`), so a reader sees at once what the Chinese says and
/// a new label cannot be added in one language only.
public enum Language: String, CaseIterable, Sendable {
    case en, zh

    /// The text for this language.
    public func callAsFunction(_ en: String, _ zh: String) -> String {
        switch self { case .en: en; case .zh: zh }
    }

    /// The course's name for `term`.
    public func callAsFunction(_ term: Term) -> String { self(term.english, term.chinese) }

    /// Joins sentences: a space in English, nothing between Chinese sentences (they end
    /// in a full-width stop).
    public func sentences(_ parts: [String]) -> String {
        parts.filter { !$0.isEmpty }.joined(separator: self == .zh ? "" : " ")
    }

    /// A list separator: ", " or the ideographic "、".
    public var listSeparator: String { self == .zh ? "、" : ", " }

    /// `HTML lang` value.
    public var htmlCode: String { self == .zh ? "zh-Hans" : "en" }
}

/// A figure's words as the user may set them: a title and a caption replacing the
/// figure's own, and the language of everything else. `nil` keeps the figure's default.
public struct FigureText: Sendable, Equatable {
    public var title: String?
    public var caption: String?
    public var language: Language

    public init(title: String? = nil, caption: String? = nil, language: Language = .en) {
        self.title = title
        self.caption = caption
        self.language = language
    }
}
