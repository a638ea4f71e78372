//! A small Markdown renderer for runbooks (headings, lists, emphasis, code, links).
