//! A streaming walk over an XML export (Disqus, WordPress) with `quick-xml`: each element's
//! start with its attributes, and its end with its text (character data, CDATA and
//! entity references joined), handed to the format's reader as the file streams past.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use quick_xml::events::Event;

pub trait Handler {
    /// An element opens, inside `path` (the names of its ancestors).
    fn start(&mut self, path: &[String], name: &str, attributes: &HashMap<String, String>) -> Result<(), String>;
    /// An element closes with the text directly inside it.
    fn end(&mut self, path: &[String], name: &str, text: String) -> Result<(), String>;
}

/// Why a walk stopped early; what was read before it stands.
pub struct Stopped {
    pub offset: u64,
    pub why: String,
}

/// Walks `path`; `root` is the name the first element must have.
pub fn walk(
    path: &Path,
    root: &[&str],
    handler: &mut impl Handler,
    progress: &indicatif::ProgressBar,
) -> Result<(), Stopped> {
    let file =
        File::open(path).map_err(|e| Stopped { offset: 0, why: format!("cannot open {}: {e}", path.display()) })?;
    let length = file.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
    let mut reader = quick_xml::Reader::from_reader(BufReader::with_capacity(1 << 16, file));
    let mut buf = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let mut seen_root = false;
    let stop = |offset: u64, why: String| Stopped { offset, why };
    loop {
        let offset = reader.buffer_position();
        progress.set_position(offset);
        let event = reader.read_event_into(&mut buf).map_err(|e| {
            let why = match (seen_root, reader.buffer_position() >= length) {
                (false, _) => format!("this is not an XML file ({e})"),
                (true, true) => {
                    "the file ends in the middle of a tag: it looks cut short; what came before is imported".into()
                }
                (true, false) => format!("the XML is broken here: {e}"),
            };
            stop(offset, why)
        })?;
        match event {
            Event::Start(start) | Event::Empty(start) if !seen_root => {
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                if !root.contains(&name.as_str()) {
                    return Err(stop(offset, format!("this is not the export expected: it begins with <{name}>")));
                }
                seen_root = true;
                stack.push(name);
                texts.push(String::new());
            }
            Event::Start(start) => {
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                let attributes = attributes_of(&start);
                handler.start(&stack, &name, &attributes).map_err(|why| stop(offset, why))?;
                stack.push(name);
                texts.push(String::new());
            }
            Event::Empty(start) => {
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                let attributes = attributes_of(&start);
                handler.start(&stack, &name, &attributes).map_err(|why| stop(offset, why))?;
                handler.end(&stack, &name, String::new()).map_err(|why| stop(offset, why))?;
            }
            Event::End(_) => {
                let name = stack.pop().unwrap_or_default();
                let text = texts.pop().unwrap_or_default();
                handler.end(&stack, &name, text).map_err(|why| stop(offset, why))?;
            }
            Event::Text(text) => {
                if let Some(top) = texts.last_mut() {
                    top.push_str(&text.decode().map_err(|e| stop(offset, format!("text is not UTF-8: {e}")))?);
                }
            }
            Event::CData(data) => {
                if let Some(top) = texts.last_mut() {
                    top.push_str(&String::from_utf8_lossy(&data));
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(top) = texts.last_mut() {
                    let name = String::from_utf8_lossy(&reference).into_owned();
                    match reference.resolve_char_ref() {
                        Ok(Some(c)) => top.push(c),
                        _ => top.push_str(predefined(&name).unwrap_or(&format!("&{name};"))),
                    }
                }
            }
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(stop(
                        offset,
                        format!("the file ends inside <{open}>: it looks cut short; what came before is imported"),
                    ));
                }
                if !seen_root {
                    return Err(stop(offset, "the file is empty".into()));
                }
                return Ok(());
            }
            _ => {}
        }
        buf.clear();
    }
}

fn predefined(name: &str) -> Option<&'static str> {
    Some(match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => return None,
    })
}

fn attributes_of(start: &quick_xml::events::BytesStart<'_>) -> HashMap<String, String> {
    start
        .attributes()
        .flatten()
        .map(|a| {
            let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
            let value = a.unescape_value().map(|v| v.into_owned()).unwrap_or_default();
            (key, value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Texts(Vec<(String, String)>);

    impl Handler for Texts {
        fn start(&mut self, _: &[String], _: &str, _: &HashMap<String, String>) -> Result<(), String> {
            Ok(())
        }
        fn end(&mut self, _: &[String], name: &str, text: String) -> Result<(), String> {
            self.0.push((name.to_owned(), text));
            Ok(())
        }
    }

    /// An export is a stranger's text too: entities it declares are never expanded (no
    /// "billion laughs"), only XML's own five and character references.
    #[test]
    fn declared_entities_stay_text_and_references_resolve() {
        let path = std::env::temp_dir().join(format!("rally-xml-{}.xml", std::process::id()));
        std::fs::write(
            &path,
            "<?xml version=\"1.0\"?><!DOCTYPE disqus [<!ENTITY a \"AAAAAAAAAA\"><!ENTITY b \"&a;&a;&a;&a;\">]>\
             <disqus><message>&b; &amp; &#233; <![CDATA[<p>x</p>]]></message></disqus>",
        )
        .unwrap();
        let mut texts = Texts(Vec::new());
        walk(&path, &["disqus"], &mut texts, &indicatif::ProgressBar::hidden()).ok().unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(texts.0[0], ("message".to_owned(), "&b; & é <p>x</p>".to_owned()));
    }
}
