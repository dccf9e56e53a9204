//! The text form of conditions: `order.total >= 50000 USD and order.state_age >= 7d`.
//!
//! ```text
//! condition  := or
//! or         := and ("or" and)*
//! and        := unary ("and" unary)*
//! unary      := "not" unary | "(" condition ")" | "true" | "false" | comparison
//! comparison := path ("=" | "!=" | "<" | "<=" | ">" | ">=") value
//!             | path "in" "[" (string ("," string)*)? "]"
//!             | path ("contains" | "within") string
//! value      := number CURRENCY      money:    50000 USD, 1999.99 EUR
//!             | number unit+         duration: 7d, 1d12h, 90m, 250ms
//!             | number               number:   3, -2.5
//!             | string               text:     "card" (escapes \" \\ \n \r \t \u{..})
//!             | "true" | "false"     bool
//! ```
//!
//! `true` and `false` in condition position are the empty `all` and the empty `any`.
//! Parenthesised groups are kept as groups, so `(a and b) and c` is not flattened.

use super::{Comparison, Condition, FieldPath, MAX_DEPTH, Op, Value};
use crate::ids::SharedStr;
use crate::{
    decimal::parse_decimal,
    money::{Currency, Money},
    time::Duration,
};
use std::fmt;

/// Where and why a text is not a condition. `column` counts characters from 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub column: usize,
    pub kind: ParseErrorKind,
}

impl std::error::Error for ParseError {}

/// What the parser wanted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    Condition,
    Operator,
    Value,
    Text,
    ClosingParen,
    ListOpen,
    ListItem,
    EndOfText,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// Something else was found (`found` is `None` at the end of the text).
    Unexpected {
        expected: Expected,
        found: Option<String>,
    },
    BadNumber(String),
    BadDuration(String),
    UnknownCurrency(String),
    BadField(String),
    UnterminatedText,
    BadEscape(String),
    TooDeep,
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Op(Op),
    Open,
    Close,
    ListOpen,
    ListClose,
    Comma,
    Literal(Value),
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Word(w) => w.clone(),
            Token::Op(op) => op.symbol().to_owned(),
            Token::Open => "(".into(),
            Token::Close => ")".into(),
            Token::ListOpen => "[".into(),
            Token::ListClose => "]".into(),
            Token::Comma => ",".into(),
            Token::Literal(v) => {
                let mut s = String::new();
                let _ = write_value(v, &mut s);
                s
            }
        }
    }
}

struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
    text: &'a str,
}

fn column_of(text: &str, byte: usize) -> usize {
    text.get(..byte).map_or(0, |s| s.chars().count()).saturating_add(1)
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
        Lexer { chars: text.char_indices().peekable(), text }
    }

    fn error(&self, byte: usize, kind: ParseErrorKind) -> ParseError {
        ParseError { column: column_of(self.text, byte), kind }
    }

    fn take_while(&mut self, start: usize, mut f: impl FnMut(char) -> bool) -> &'a str {
        let mut end = start;
        while let Some(&(i, c)) = self.chars.peek() {
            if !f(c) {
                break;
            }
            end = i.saturating_add(c.len_utf8());
            self.chars.next();
        }
        self.text.get(start..end).unwrap_or_default()
    }

    fn tokens(mut self) -> Result<Vec<(usize, Token)>, ParseError> {
        let mut out = Vec::new();
        while let Some(&(start, c)) = self.chars.peek() {
            let token = match c {
                c if c.is_whitespace() => {
                    self.chars.next();
                    continue;
                }
                '(' | ')' | '[' | ']' | ',' => {
                    self.chars.next();
                    match c {
                        '(' => Token::Open,
                        ')' => Token::Close,
                        '[' => Token::ListOpen,
                        ']' => Token::ListClose,
                        _ => Token::Comma,
                    }
                }
                '=' | '!' | '<' | '>' => self.operator(start)?,
                '"' => self.string(start)?,
                c if c.is_ascii_digit() || c == '-' => self.number(start)?,
                c if c.is_ascii_alphabetic() || c == '_' => {
                    let word = self
                        .take_while(start, |c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
                    Token::Word(word.to_owned())
                }
                other => {
                    return Err(self.error(
                        start,
                        ParseErrorKind::Unexpected {
                            expected: Expected::Condition,
                            found: Some(other.to_string()),
                        },
                    ));
                }
            };
            out.push((start, token));
        }
        Ok(out)
    }

    fn operator(&mut self, start: usize) -> Result<Token, ParseError> {
        let text = self.take_while(start, |c| matches!(c, '=' | '!' | '<' | '>'));
        let op = match text {
            "=" | "==" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            other => {
                return Err(self.error(
                    start,
                    ParseErrorKind::Unexpected {
                        expected: Expected::Operator,
                        found: Some(other.to_owned()),
                    },
                ));
            }
        };
        Ok(Token::Op(op))
    }

    fn string(&mut self, start: usize) -> Result<Token, ParseError> {
        self.chars.next();
        let mut out = String::new();
        loop {
            let Some((i, c)) = self.chars.next() else {
                return Err(self.error(start, ParseErrorKind::UnterminatedText));
            };
            match c {
                '"' => return Ok(Token::Literal(Value::Text(SharedStr::from(out)))),
                '\\' => {
                    let escaped = match self.chars.next() {
                        Some((_, '"')) => '"',
                        Some((_, '\\')) => '\\',
                        Some((_, 'n')) => '\n',
                        Some((_, 'r')) => '\r',
                        Some((_, 't')) => '\t',
                        Some((_, 'u')) => self.unicode_escape(i)?,
                        Some((_, other)) => {
                            return Err(
                                self.error(i, ParseErrorKind::BadEscape(format!("\\{other}")))
                            );
                        }
                        None => return Err(self.error(start, ParseErrorKind::UnterminatedText)),
                    };
                    out.push(escaped);
                }
                c => out.push(c),
            }
        }
    }

    fn unicode_escape(&mut self, at: usize) -> Result<char, ParseError> {
        let bad = |lexer: &Self, text: String| lexer.error(at, ParseErrorKind::BadEscape(text));
        if self.chars.next().map(|(_, c)| c) != Some('{') {
            return Err(bad(self, "\\u".into()));
        }
        let mut hex = String::new();
        loop {
            match self.chars.next() {
                Some((_, '}')) => break,
                Some((_, c)) if c.is_ascii_hexdigit() && hex.len() < 6 => hex.push(c),
                _ => return Err(bad(self, format!("\\u{{{hex}"))),
            }
        }
        u32::from_str_radix(&hex, 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| bad(self, format!("\\u{{{hex}}}")))
    }

    fn number(&mut self, start: usize) -> Result<Token, ParseError> {
        let mut first = true;
        let number = self.take_while(start, |c| {
            let ok = c.is_ascii_digit() || c == '.' || (first && c == '-');
            first = false;
            ok
        });
        // Directly followed by letters: a duration such as 7d or 1d12h.
        if self.chars.peek().is_some_and(|&(_, c)| c.is_ascii_alphabetic()) {
            let whole = self.take_while(start, |c| c.is_ascii_alphanumeric());
            return Duration::parse(whole)
                .map(|d| Token::Literal(Value::Duration(d)))
                .map_err(|_| self.error(start, ParseErrorKind::BadDuration(whole.to_owned())));
        }
        let amount = parse_decimal(number)
            .map_err(|_| self.error(start, ParseErrorKind::BadNumber(number.to_owned())))?;
        // Followed by spaces and an upper-case word: money such as 50000 USD.
        let rest = self.text.get(start.saturating_add(number.len())..).unwrap_or_default();
        let trimmed = rest.trim_start();
        let code_len = trimmed.bytes().take_while(u8::is_ascii_uppercase).count();
        let after_code = trimmed.get(code_len..).unwrap_or_default();
        let boundary = after_code.chars().next().is_none_or(|c| !c.is_ascii_alphanumeric());
        if code_len > 0 && trimmed.len() < rest.len() && boundary {
            let code = trimmed.get(..code_len).unwrap_or_default();
            let code_start = start
                .saturating_add(number.len())
                .saturating_add(rest.len().saturating_sub(trimmed.len()));
            let currency = Currency::from_code(code).map_err(|_| {
                self.error(code_start, ParseErrorKind::UnknownCurrency(code.to_owned()))
            })?;
            // Consume the spaces and the code.
            let end = code_start.saturating_add(code_len);
            while self.chars.peek().is_some_and(|&(i, _)| i < end) {
                self.chars.next();
            }
            return Ok(Token::Literal(Value::Money(Money::new(amount, currency))));
        }
        Ok(Token::Literal(Value::Number(amount)))
    }
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<(usize, Token)>,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(_, t)| t)
    }

    fn offset(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.text.len(), |(o, _)| *o)
    }

    fn bump(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).map(|(_, t)| t.clone());
        self.pos = self.pos.saturating_add(1);
        t
    }

    fn unexpected(&self, expected: Expected) -> ParseError {
        ParseError {
            column: column_of(self.text, self.offset()),
            kind: ParseErrorKind::Unexpected { expected, found: self.peek().map(Token::describe) },
        }
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w == word)
    }

    fn chain(
        &mut self,
        word: &str,
        next: fn(&mut Self) -> Result<Condition, ParseError>,
        group: fn(Vec<Condition>) -> Condition,
    ) -> Result<Condition, ParseError> {
        let first = next(self)?;
        if !self.is_word(word) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.is_word(word) {
            self.bump();
            items.push(next(self)?);
        }
        Ok(group(items))
    }

    fn or(&mut self) -> Result<Condition, ParseError> {
        self.chain("or", Self::and, Condition::Any)
    }

    fn and(&mut self) -> Result<Condition, ParseError> {
        self.chain("and", Self::unary, Condition::All)
    }

    fn unary(&mut self) -> Result<Condition, ParseError> {
        self.depth = self.depth.saturating_add(1);
        if self.depth > MAX_DEPTH {
            return Err(ParseError {
                column: column_of(self.text, self.offset()),
                kind: ParseErrorKind::TooDeep,
            });
        }
        let result = self.unary_inner();
        self.depth = self.depth.saturating_sub(1);
        result
    }

    fn unary_inner(&mut self) -> Result<Condition, ParseError> {
        match self.peek() {
            Some(Token::Word(w)) if w == "not" => {
                self.bump();
                Ok(Condition::Not(Box::new(self.unary()?)))
            }
            Some(Token::Word(w)) if w == "true" => {
                self.bump();
                Ok(Condition::All(vec![]))
            }
            Some(Token::Word(w)) if w == "false" => {
                self.bump();
                Ok(Condition::Any(vec![]))
            }
            Some(Token::Open) => {
                self.bump();
                let inner = self.or()?;
                match self.peek() {
                    Some(Token::Close) => {
                        self.bump();
                        Ok(inner)
                    }
                    _ => Err(self.unexpected(Expected::ClosingParen)),
                }
            }
            Some(Token::Word(_)) => self.comparison(),
            _ => Err(self.unexpected(Expected::Condition)),
        }
    }

    fn comparison(&mut self) -> Result<Condition, ParseError> {
        let at = self.offset();
        let Some(Token::Word(word)) = self.bump() else {
            return Err(self.unexpected(Expected::Condition));
        };
        let field = FieldPath::parse(&word).map_err(|_| ParseError {
            column: column_of(self.text, at),
            kind: ParseErrorKind::BadField(word.clone()),
        })?;
        let op = match self.peek() {
            Some(Token::Op(op)) => *op,
            Some(Token::Word(w)) if w == "in" => Op::In,
            Some(Token::Word(w)) if w == "contains" => Op::Contains,
            Some(Token::Word(w)) if w == "within" => Op::Within,
            _ => return Err(self.unexpected(Expected::Operator)),
        };
        self.bump();
        let value = match op {
            Op::In => self.list()?,
            Op::Contains | Op::Within => match self.peek() {
                Some(Token::Literal(v @ Value::Text(_))) => {
                    let v = v.clone();
                    self.bump();
                    v
                }
                _ => return Err(self.unexpected(Expected::Text)),
            },
            _ => self.value()?,
        };
        Ok(Condition::Compare(Comparison { field, op, value }))
    }

    fn value(&mut self) -> Result<Value, ParseError> {
        let value = match self.peek() {
            Some(Token::Literal(v)) => v.clone(),
            Some(Token::Word(w)) if w == "true" => Value::Bool(true),
            Some(Token::Word(w)) if w == "false" => Value::Bool(false),
            _ => return Err(self.unexpected(Expected::Value)),
        };
        self.bump();
        Ok(value)
    }

    fn list(&mut self) -> Result<Value, ParseError> {
        if self.peek() != Some(&Token::ListOpen) {
            return Err(self.unexpected(Expected::ListOpen));
        }
        self.bump();
        let mut items = Vec::new();
        if self.peek() == Some(&Token::ListClose) {
            self.bump();
            return Ok(Value::List(items.into()));
        }
        loop {
            match self.bump() {
                Some(Token::Literal(Value::Text(t))) => items.push(t),
                _ => {
                    self.pos = self.pos.saturating_sub(1);
                    return Err(self.unexpected(Expected::ListItem));
                }
            }
            match self.bump() {
                Some(Token::Comma) => {}
                Some(Token::ListClose) => return Ok(Value::List(items.into())),
                _ => {
                    self.pos = self.pos.saturating_sub(1);
                    return Err(self.unexpected(Expected::ListItem));
                }
            }
        }
    }
}

/// Parses the text form. The result is in canonical form.
pub fn parse(text: &str) -> Result<Condition, ParseError> {
    let tokens = Lexer::new(text).tokens()?;
    let mut parser = Parser { text, tokens, pos: 0, depth: 0 };
    let condition = parser.or()?;
    if parser.peek().is_some() {
        return Err(parser.unexpected(Expected::EndOfText));
    }
    Ok(condition)
}

/// Prints the text form of a condition's canonical form.
pub fn print(condition: &Condition) -> String {
    condition.to_string()
}

/// A group that prints with an infix operator and so needs parentheses when nested.
fn is_compound(c: &Condition) -> bool {
    match c {
        Condition::All(items) | Condition::Any(items) => match items.as_slice() {
            [] => false,
            [only] => is_compound(only),
            _ => true,
        },
        _ => false,
    }
}

fn write_nested(c: &Condition, out: &mut impl fmt::Write) -> fmt::Result {
    if is_compound(c) {
        out.write_char('(')?;
        write(c, out)?;
        out.write_char(')')
    } else {
        write(c, out)
    }
}

pub(crate) fn write(c: &Condition, out: &mut impl fmt::Write) -> fmt::Result {
    match c {
        Condition::All(items) | Condition::Any(items) => {
            let (empty, joiner) = match c {
                Condition::All(_) => ("true", " and "),
                _ => ("false", " or "),
            };
            match items.as_slice() {
                [] => out.write_str(empty),
                [only] => write(only, out),
                _ => {
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.write_str(joiner)?;
                        }
                        write_nested(item, out)?;
                    }
                    Ok(())
                }
            }
        }
        Condition::Not(inner) => {
            out.write_str("not ")?;
            write_nested(inner, out)
        }
        Condition::Compare(Comparison { field, op, value }) => {
            write!(out, "{field} {} ", op.symbol())?;
            write_value(value, out)
        }
    }
}

/// A text in quotes, escaped as the text form writes it (`"say \"hi\""`): for messages that
/// quote what was given, without Rust's `Debug` (whose Unicode tables cost the wasm builds).
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len().saturating_add(2));
    // Writing into a String cannot fail.
    let _ = write_text(text, &mut out);
    out
}

pub(crate) fn write_text(text: &str, out: &mut impl fmt::Write) -> fmt::Result {
    out.write_char('"')?;
    for c in text.chars() {
        match c {
            '"' => out.write_str("\\\"")?,
            '\\' => out.write_str("\\\\")?,
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            c if c.is_control() => write!(out, "\\u{{{:x}}}", u32::from(c))?,
            c => out.write_char(c)?,
        }
    }
    out.write_char('"')
}

/// Writes a value as a literal of the text form.
pub fn write_value(value: &Value, out: &mut impl fmt::Write) -> fmt::Result {
    match value {
        Value::Money(m) => write!(out, "{} {}", m.amount(), m.currency()),
        Value::Number(n) => write!(out, "{n}"),
        Value::Duration(d) => write!(out, "{d}"),
        Value::Text(t) => write_text(t, out),
        Value::Bool(b) => write!(out, "{b}"),
        Value::List(items) => {
            out.write_char('[')?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.write_str(", ")?;
                }
                write_text(item, out)?;
            }
            out.write_char(']')
        }
    }
}

/// A value as a literal of the text form.
pub fn value_text(value: &Value) -> String {
    let mut s = String::new();
    let _ = write_value(value, &mut s);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> String {
        print(&parse(text).unwrap_or_else(|e| panic!("{text}: {e:?}")))
    }

    #[test]
    fn parses_the_seed_guard() {
        let c = parse("order.total >= 50000 USD and order.state_age >= 7d").unwrap();
        let Condition::All(items) = &c else { panic!("{c:?}") };
        assert_eq!(items.len(), 2);
        assert_eq!(print(&c), "order.total >= 50000 USD and order.state_age >= 7d");
    }

    #[test]
    fn precedence_and_groups() {
        assert_eq!(
            round_trip("a.b = 1 or a.c = 2 and a.d = 3"),
            "a.b = 1 or (a.c = 2 and a.d = 3)"
        );
        assert_eq!(
            round_trip("(a.b = 1 or a.c = 2) and a.d = 3"),
            "(a.b = 1 or a.c = 2) and a.d = 3"
        );
        assert_eq!(
            round_trip("(a.b = 1 and a.c = 2) and a.d = 3"),
            "(a.b = 1 and a.c = 2) and a.d = 3"
        );
        assert_eq!(round_trip("not not (a.b = 1)"), "not not a.b = 1");
        assert_eq!(round_trip("not (a.b = 1 and a.c = 2)"), "not (a.b = 1 and a.c = 2)");
        assert_eq!(round_trip("true"), "true");
        assert_eq!(round_trip("false or true"), "false or true");
        assert_eq!(round_trip("((a.b == 1))"), "a.b = 1");
    }

    #[test]
    fn literals() {
        assert_eq!(
            round_trip(r#"order.payment_method in ["card", "in\"voice", "a\\b\n"]"#),
            r#"order.payment_method in ["card", "in\"voice", "a\\b\n"]"#
        );
        assert_eq!(round_trip("o.x in []"), "o.x in []");
        assert_eq!(round_trip("o.x > -2.50"), "o.x > -2.50");
        assert_eq!(round_trip("o.x < 1999.99 EUR"), "o.x < 1999.99 EUR");
        assert_eq!(round_trip("o.x >= 168h"), "o.x >= 7d");
        assert_eq!(round_trip("o.x = true"), "o.x = true");
        assert_eq!(round_trip(r#"o.x contains "\u{7}""#), r#"o.x contains "\u{7}""#);
        assert_eq!(round_trip(r#"o.unit within "emea""#), r#"o.unit within "emea""#);
    }

    #[test]
    fn errors_say_where_and_what() {
        let err = |t: &str| parse(t).unwrap_err();
        assert_eq!(
            err("order.total >="),
            ParseError {
                column: 15,
                kind: ParseErrorKind::Unexpected { expected: Expected::Value, found: None }
            }
        );
        assert_eq!(err("order.total >= 5 XYZ").kind, ParseErrorKind::UnknownCurrency("XYZ".into()));
        assert_eq!(err("order.total >= 5 XYZ").column, 18);
        assert_eq!(err("o.x >= 7q").kind, ParseErrorKind::BadDuration("7q".into()));
        assert_eq!(err("total >= 5").kind, ParseErrorKind::BadField("total".into()));
        assert_eq!(err("o.x = \"abc").kind, ParseErrorKind::UnterminatedText);
        assert!(matches!(
            err("o.x = 1 o.y = 2").kind,
            ParseErrorKind::Unexpected { expected: Expected::EndOfText, .. }
        ));
        assert!(matches!(
            err("(o.x = 1").kind,
            ParseErrorKind::Unexpected { expected: Expected::ClosingParen, .. }
        ));
        assert!(matches!(
            err("o.x in [1]").kind,
            ParseErrorKind::Unexpected { expected: Expected::ListItem, .. }
        ));
        assert!(matches!(err("o.x ~ 1").kind, ParseErrorKind::Unexpected { .. }));
        assert_eq!(err(&"not ".repeat(100).add("o.x = 1")).kind, ParseErrorKind::TooDeep);
        assert_eq!(err(&"(".repeat(100)).kind, ParseErrorKind::TooDeep);
        assert!(matches!(
            err("").kind,
            ParseErrorKind::Unexpected { expected: Expected::Condition, found: None }
        ));
        assert!(matches!(err("ö.x = 1").kind, ParseErrorKind::Unexpected { .. }));
    }

    trait Add {
        fn add(self, s: &str) -> String;
    }
    impl Add for String {
        fn add(mut self, s: &str) -> String {
            self.push_str(s);
            self
        }
    }
}
