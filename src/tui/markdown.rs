//! Runbooks (Markdown) as styled lines for the task screen.
//!
//! pulldown-cmark does the parsing: it is CommonMark-correct (nested lists,
//! fences, emphasis and escape rules) and leaves no hand-written parser here
//! to maintain; GitHub tables are the one extension turned on. This module
//! turns its events into lines. Front matter is dropped (it selects the
//! runbook: `engine::runbook::front_matter`), paragraphs are re-flowed to the
//! pane's width ([`wrap`]), fenced code is kept verbatim (commands are copied
//! from it), links show their address because a terminal cannot follow them,
//! and one blank line stands where the source has blank lines between blocks.

mod table;
mod wrap;

use std::ops::Range;

use pulldown_cmark::{CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use self::table::Table;
use self::wrap::{Margins, Seg, seg_width};
use super::theme::Theme;
use crate::engine::runbook::front_matter;

/// Runbook `text` as lines no wider than `width` (except code, kept verbatim).
pub fn render(text: &str, theme: &Theme, width: u16) -> Vec<Line<'static>> {
    let body = front_matter::body(text);
    let mut r = Renderer {
        theme,
        width: usize::from(width).max(1),
        src: body,
        cursor: 0,
        out: Vec::new(),
        last_blank: false,
        margins: Margins::default(),
        lists: Vec::new(),
        quotes: 0,
        leaf: None,
        styles: Vec::new(),
        inline: Vec::new(),
        code: String::new(),
        links: Vec::new(),
        table: None,
    };
    for (event, range) in Parser::new_ext(body, Options::ENABLE_TABLES).into_offset_iter() {
        r.event(event, range);
    }
    r.finish()
}

/// The block whose content is being collected.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Leaf {
    Para,
    Heading(HeadingLevel),
    Code,
    Html,
}

struct Link {
    url: String,
    label: String,
    autolink: bool,
}

struct Renderer<'t> {
    theme: &'t Theme,
    width: usize,
    /// The source, and how much of it the output covers: blank lines
    /// between that and the next block become one blank line.
    src: &'t str,
    cursor: usize,
    out: Vec<Line<'static>>,
    last_blank: bool,
    margins: Margins,
    /// Open lists: the next item's number, `None` for bullets.
    lists: Vec<Option<u64>>,
    quotes: usize,
    leaf: Option<Leaf>,
    /// Inline styles (emphasis inside a link …); empty means the block's base.
    styles: Vec<Style>,
    inline: Vec<Seg>,
    code: String,
    links: Vec<Link>,
    table: Option<Table>,
}

impl Renderer<'_> {
    fn event(&mut self, event: Event<'_>, range: Range<usize>) {
        let leaf_event = matches!(
            event,
            Event::Text(_)
                | Event::Code(_)
                | Event::Html(_)
                | Event::InlineHtml(_)
                | Event::SoftBreak
                | Event::HardBreak
                | Event::Rule
                | Event::End(TagEnd::CodeBlock | TagEnd::HtmlBlock)
        );
        match event {
            Event::Start(tag) => self.start(tag, range.start),
            Event::End(tag) => self.end(tag),
            Event::Text(t) | Event::Html(t)
                if matches!(self.leaf, Some(Leaf::Code | Leaf::Html)) =>
            {
                self.code.push_str(&t);
            }
            Event::Text(t) | Event::InlineHtml(t) | Event::Html(t) => {
                self.text(&t, self.style());
            }
            Event::Code(t) => self.text(&t, self.patched("md_code")),
            Event::SoftBreak => self.text(" ", self.style()),
            Event::HardBreak => self.text("\n", self.style()),
            Event::Rule => {
                self.begin(range.start);
                let mut row = self.margins.take().first;
                let w = self.width.saturating_sub(seg_width(&row)).max(1);
                row.push(("─".repeat(w), self.theme.get("dim")));
                self.push(row, false);
            }
            _ => {}
        }
        if leaf_event {
            self.cursor = self.cursor.max(range.end);
        }
    }

    fn start(&mut self, tag: Tag<'_>, at: usize) {
        match tag {
            Tag::Paragraph => self.open(Leaf::Para, at),
            Tag::Heading { level, .. } => self.open(Leaf::Heading(level), at),
            Tag::CodeBlock(_) => self.open(Leaf::Code, at),
            Tag::HtmlBlock => self.open(Leaf::Html, at),
            Tag::BlockQuote(_) => {
                self.begin(at);
                self.quotes += 1;
                self.margins.push_quote("│ ", self.theme.get("dim"));
            }
            Tag::List(start) => {
                self.flush();
                self.lists.push(start);
            }
            Tag::Item => {
                self.begin(at);
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        let marker = format!("{n}. ");
                        *n = n.saturating_add(1);
                        marker
                    }
                    _ => "• ".to_string(),
                };
                self.margins.push_item(marker, self.theme.get("key"));
            }
            Tag::Table(aligns) => {
                self.begin(at);
                self.table = Some(Table::new(aligns));
            }
            Tag::TableHead => {
                self.styles.push(self.patched("md_strong"));
                self.table.get_or_insert_default().start_row();
            }
            Tag::TableRow => self.table.get_or_insert_default().start_row(),
            Tag::TableCell => self.table.get_or_insert_default().start_cell(),
            Tag::Emphasis => self.styles.push(self.patched("md_emphasis")),
            Tag::Strong => self.styles.push(self.patched("md_strong")),
            Tag::Link {
                link_type,
                dest_url,
                ..
            } => self.link(link_type, dest_url),
            Tag::Image {
                link_type,
                dest_url,
                ..
            } => self.link(link_type, dest_url),
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::CodeBlock | TagEnd::HtmlBlock => {
                self.flush();
            }
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.quotes = self.quotes.saturating_sub(1);
                self.margins.pop();
            }
            TagEnd::List(_) => {
                self.flush();
                self.lists.pop();
            }
            TagEnd::Item => {
                self.flush();
                // An empty item still shows its marker.
                if self.margins.unshown() {
                    let marker = self.margins.take().first;
                    self.push(marker, false);
                }
                self.margins.pop();
            }
            TagEnd::TableHead => {
                self.styles.pop();
                if let Some(t) = &mut self.table {
                    t.end_head();
                }
            }
            TagEnd::Table => self.table_out(),
            TagEnd::Emphasis | TagEnd::Strong => {
                self.styles.pop();
            }
            TagEnd::Link | TagEnd::Image => {
                self.styles.pop();
                if let Some(l) = self.links.pop()
                    && !l.autolink
                    && !l.url.is_empty()
                    && l.label != l.url
                {
                    self.text(&format!(" <{}>", l.url), self.theme.get("dim"));
                }
            }
            _ => {}
        }
    }

    /// The style for inline text here.
    fn style(&self) -> Style {
        if let Some(s) = self.styles.last() {
            return *s;
        }
        match self.leaf {
            Some(Leaf::Heading(_)) => self.theme.get("md_heading"),
            _ if self.quotes > 0 => self.theme.get("dim"),
            _ => self.theme.get("text"),
        }
    }

    fn patched(&self, role: &str) -> Style {
        self.style().patch(self.theme.get(role))
    }

    fn link(&mut self, kind: LinkType, url: CowStr<'_>) {
        self.styles.push(self.patched("md_link"));
        self.links.push(Link {
            url: url.into_string(),
            label: String::new(),
            autolink: matches!(kind, LinkType::Autolink | LinkType::Email),
        });
    }

    fn text(&mut self, t: &str, style: Style) {
        if let Some(l) = self.links.last_mut() {
            l.label.push_str(t);
        }
        if let Some(table) = &mut self.table {
            table.push((t.to_string(), style));
            return;
        }
        // A tight list item's text comes without a paragraph.
        self.leaf.get_or_insert(Leaf::Para);
        self.inline.push((t.to_string(), style));
    }

    fn open(&mut self, leaf: Leaf, at: usize) {
        self.begin(at);
        self.leaf = Some(leaf);
    }

    /// A block starts at byte `at`: the one before it is done, and a blank
    /// line in the source between them shows as one (none at the top).
    fn begin(&mut self, at: usize) {
        self.flush();
        if self.blank_before(at) && !self.out.is_empty() && !self.last_blank {
            let row = self.margins.blank(self.theme.get("dim"));
            self.push(row, true);
        }
    }

    /// Whether a blank line (spaces and quote markers only) lies between the
    /// source covered so far and byte `at`; covers up to `at`.
    fn blank_before(&mut self, at: usize) -> bool {
        let done = self.src.get(..self.cursor).unwrap_or("");
        let gap: Vec<&str> = self
            .src
            .get(self.cursor..at)
            .unwrap_or("")
            .split('\n')
            .collect();
        // Whole lines only: not the rest of the covered line, nor the start of `at`'s.
        let from = usize::from(!done.ends_with('\n'));
        let whole = gap.get(from..gap.len().saturating_sub(1)).unwrap_or(&[]);
        self.cursor = self.cursor.max(at);
        let blank = |l: &&str| l.chars().all(|c| c.is_whitespace() || c == '>');
        !done.is_empty() && whole.iter().any(blank)
    }

    fn push(&mut self, row: Vec<Seg>, blank: bool) {
        let spans: Vec<Span<'static>> = row.into_iter().map(|(t, s)| Span::styled(t, s)).collect();
        self.out.push(Line::from(spans));
        self.last_blank = blank;
    }

    /// Writes out the block being collected.
    fn flush(&mut self) {
        let Some(leaf) = self.leaf else {
            return;
        };
        let segs = std::mem::take(&mut self.inline);
        let code = std::mem::take(&mut self.code);
        match leaf {
            Leaf::Para | Leaf::Heading(_) if segs.is_empty() => {}
            Leaf::Para | Leaf::Heading(_) => {
                let mut p = self.margins.take();
                if matches!(leaf, Leaf::Heading(l) if l > HeadingLevel::H2) {
                    p.first.push(("› ".into(), self.theme.get("key")));
                }
                let base = self.style();
                for l in wrap::wrap(&segs, self.width, &p, base) {
                    self.out.push(l);
                    self.last_blank = false;
                }
            }
            Leaf::Code | Leaf::Html => {
                let (style, indent) = match leaf {
                    Leaf::Code => (self.theme.get("md_code"), "  "),
                    _ => (self.style(), ""),
                };
                let p = self.margins.take();
                for (i, l) in code.lines().enumerate() {
                    let mut row = if i == 0 {
                        p.first.clone()
                    } else {
                        p.cont.clone()
                    };
                    let l = l.trim_end().replace('\t', "    ");
                    row.push((format!("{indent}{l}"), style));
                    self.push(row, false);
                }
            }
        }
        self.leaf = None;
    }

    fn table_out(&mut self) {
        let Some(table) = self.table.take() else {
            return;
        };
        let p = self.margins.take();
        let avail = self.width.saturating_sub(seg_width(&p.cont));
        let rows = table.render(avail, self.style(), self.theme.get("dim"));
        for (i, segs) in rows.into_iter().enumerate() {
            let mut row = if i == 0 {
                p.first.clone()
            } else {
                p.cont.clone()
            };
            row.extend(segs);
            self.push(row, false);
        }
    }

    fn finish(mut self) -> Vec<Line<'static>> {
        self.flush();
        if self.last_blank {
            self.out.pop();
        }
        while self.out.last().is_some_and(|l| l.width() == 0) {
            self.out.pop();
        }
        self.out
    }
}

#[cfg(test)]
#[path = "markdown_tests.rs"]
mod tests;
