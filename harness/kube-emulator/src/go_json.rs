//! Go's `json.Unmarshal(bytes, &map[string]interface{}{})` errors, word
//! for word: the real server quotes them where it checks that a Secret's
//! docker config is JSON. Syntax first, as Go's `checkValid` scans the
//! whole input before decoding; then the type (anything but an object or
//! `null` cannot go into a map).

/// Go's error for these bytes as a JSON object, or `None` when it decodes.
pub(crate) fn object_error(bytes: &[u8]) -> Option<String> {
    let mut scan = Scan { b: bytes, i: 0 };
    if let Err(e) = scan.top() {
        return Some(e);
    }
    let first = bytes.iter().find(|c| !is_space(**c));
    let kind = match first {
        Some(b'{') | Some(b'n') => return None,
        Some(b'[') => "array",
        Some(b'"') => "string",
        Some(b't') | Some(b'f') => "bool",
        _ => "number",
    };
    Some(format!(
        "json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
    ))
}

const END: &str = "unexpected end of JSON input";

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// `invalid character 'c' <context>`, the character quoted as Go's
/// `quoteChar` does.
fn invalid(c: u8, context: &str) -> String {
    let quoted = match c {
        b'\'' => "\\'".to_owned(),
        b'"' => "\"".to_owned(),
        0x07 => "\\a".to_owned(),
        0x08 => "\\b".to_owned(),
        0x0c => "\\f".to_owned(),
        b'\n' => "\\n".to_owned(),
        b'\r' => "\\r".to_owned(),
        b'\t' => "\\t".to_owned(),
        0x0b => "\\v".to_owned(),
        c if c < 0x20 || c == 0x7f => format!("\\x{c:02x}"),
        c if (0x80..0xa0).contains(&c) => format!("\\u{c:04x}"),
        c => char::from(c).to_string(),
    };
    format!("invalid character '{quoted}' {context}")
}

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

type Scanned = Result<(), String>;

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek();
        self.i += 1;
        c
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.i += 1;
        }
    }

    fn top(&mut self) -> Scanned {
        self.value()?;
        self.skip_space();
        match self.peek() {
            None => Ok(()),
            Some(c) => Err(invalid(c, "after top-level value")),
        }
    }

    fn value(&mut self) -> Scanned {
        self.skip_space();
        match self.next() {
            None => Err(END.into()),
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => self.string(),
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            Some(c @ (b'-' | b'0'..=b'9')) => self.number(c),
            Some(c) => Err(invalid(c, "looking for beginning of value")),
        }
    }

    fn object(&mut self) -> Scanned {
        self.skip_space();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.skip_space();
            match self.next() {
                None => return Err(END.into()),
                Some(b'"') => self.string()?,
                Some(c) => return Err(invalid(c, "looking for beginning of object key string")),
            }
            self.skip_space();
            match self.next() {
                None => return Err(END.into()),
                Some(b':') => {}
                Some(c) => return Err(invalid(c, "after object key")),
            }
            self.value()?;
            self.skip_space();
            match self.next() {
                None => return Err(END.into()),
                Some(b',') => {}
                Some(b'}') => return Ok(()),
                Some(c) => return Err(invalid(c, "after object key:value pair")),
            }
        }
    }

    fn array(&mut self) -> Scanned {
        self.skip_space();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.value()?;
            self.skip_space();
            match self.next() {
                None => return Err(END.into()),
                Some(b',') => {}
                Some(b']') => return Ok(()),
                Some(c) => return Err(invalid(c, "after array element")),
            }
        }
    }

    fn string(&mut self) -> Scanned {
        loop {
            match self.next() {
                None => return Err(END.into()),
                Some(b'"') => return Ok(()),
                Some(b'\\') => match self.next() {
                    None => return Err(END.into()),
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {}
                    Some(b'u') => {
                        for _ in 0..4 {
                            match self.next() {
                                None => return Err(END.into()),
                                Some(c) if c.is_ascii_hexdigit() => {}
                                Some(c) => {
                                    return Err(invalid(c, "in \\u hexadecimal character escape"));
                                }
                            }
                        }
                    }
                    Some(c) => return Err(invalid(c, "in string escape code")),
                },
                Some(c) if c < 0x20 => return Err(invalid(c, "in string literal")),
                Some(_) => {}
            }
        }
    }

    /// A number from its first character; it ends at the first character
    /// it cannot take, which the caller then judges.
    fn number(&mut self, first: u8) -> Scanned {
        let digit = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_digit());
        let mut lead = first;
        if first == b'-' {
            match self.next() {
                None => return Err(END.into()),
                Some(c) if c.is_ascii_digit() => lead = c,
                Some(c) => return Err(invalid(c, "in numeric literal")),
            }
        }
        if lead != b'0' {
            while digit(self.peek()) {
                self.i += 1;
            }
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            match self.next() {
                None => return Err(END.into()),
                Some(c) if c.is_ascii_digit() => {}
                Some(c) => return Err(invalid(c, "after decimal point in numeric literal")),
            }
            while digit(self.peek()) {
                self.i += 1;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            match self.next() {
                None => return Err(END.into()),
                Some(c) if c.is_ascii_digit() => {}
                Some(c) => return Err(invalid(c, "in exponent of numeric literal")),
            }
            while digit(self.peek()) {
                self.i += 1;
            }
        }
        Ok(())
    }

    /// The rest of `true`, `false` or `null`, its first letter read.
    fn literal(&mut self, word: &str) -> Scanned {
        for expected in word.bytes().skip(1) {
            match self.next() {
                None => return Err(END.into()),
                Some(c) if c == expected => {}
                Some(c) => {
                    return Err(invalid(
                        c,
                        &format!("in literal {word} (expecting '{}')", char::from(expected)),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::object_error;

    #[test]
    fn go_words_for_each_kind_of_error() {
        for (input, expected) in [
            // Seen from kube-apiserver v1.34.4 (the kube API differential).
            (
                "not json",
                "invalid character 'o' in literal null (expecting 'u')",
            ),
            ("", "unexpected end of JSON input"),
            ("{", "unexpected end of JSON input"),
            ("x", "invalid character 'x' looking for beginning of value"),
            (
                "{1}",
                "invalid character '1' looking for beginning of object key string",
            ),
            ("{\"a\" 1}", "invalid character '1' after object key"),
            (
                "{\"a\":1 2}",
                "invalid character '2' after object key:value pair",
            ),
            (
                "{\"a\":1,}",
                "invalid character '}' looking for beginning of object key string",
            ),
            ("[1 2]", "invalid character '2' after array element"),
            ("{} x", "invalid character 'x' after top-level value"),
            ("01", "invalid character '1' after top-level value"),
            ("-x", "invalid character 'x' in numeric literal"),
            (
                "1.x",
                "invalid character 'x' after decimal point in numeric literal",
            ),
            (
                "1ex",
                "invalid character 'x' in exponent of numeric literal",
            ),
            ("\"\\x\"", "invalid character 'x' in string escape code"),
            (
                "\"\\u12g4\"",
                "invalid character 'g' in \\u hexadecimal character escape",
            ),
            ("\"a\nb\"", "invalid character '\\n' in string literal"),
            ("tru", "unexpected end of JSON input"),
            (
                "[]",
                "json: cannot unmarshal array into Go value of type map[string]interface {}",
            ),
            (
                "\"s\"",
                "json: cannot unmarshal string into Go value of type map[string]interface {}",
            ),
            (
                "1.5e3",
                "json: cannot unmarshal number into Go value of type map[string]interface {}",
            ),
            (
                "false",
                "json: cannot unmarshal bool into Go value of type map[string]interface {}",
            ),
        ] {
            assert_eq!(
                object_error(input.as_bytes()).as_deref(),
                Some(expected),
                "{input:?}"
            );
        }
        for ok in [
            "{}",
            " {\"auths\": {\"r\": {\"auth\": \"eDp5\"}}} ",
            "null",
            "{\"a\":[1,-0.5e+2,true,null,\"\\u00e9\"]}",
        ] {
            assert_eq!(object_error(ok.as_bytes()), None, "{ok:?}");
        }
    }
}
