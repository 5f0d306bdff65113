//! Where the WSGI callable lives: `module:attr`, `path/to/app.py:attr`, or a factory
//! `module:make_app(args)`. Pure parsing; importing is the interpreter's job.

use std::path::PathBuf;

use thiserror::Error;

/// What `--wsgi` names: where to find the module, and how to get the callable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppTarget {
    /// The module, by dotted name or by file.
    pub module: ModuleRef,
    /// The attribute holding the callable (dotted paths allowed: `pkg.wsgi:app.wsgi_app`).
    pub attr: String,
    /// For a factory, the Python text of the arguments between the parentheses
    /// (`""` for `make_app()`); the result of the call is the callable.
    pub factory_args: Option<String>,
}

/// How the module is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleRef {
    /// A dotted module name, imported from `sys.path`.
    Name(String),
    /// A `.py` file, loaded by path; its directory is put first on `sys.path`.
    File(PathBuf),
}

/// What was wrong with a `--wsgi` value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TargetError {
    /// Nothing before the colon.
    #[error("{0:?} names no module: write module:callable, e.g. myapp:app or app.py:app")]
    NoModule(String),
    /// Not a dotted Python name.
    #[error("{name:?} in {text:?} is not a Python name: use letters, digits, _ and dots")]
    NotAName {
        /// The offending part.
        name: String,
        /// The whole value.
        text: String,
    },
    /// A factory call without its closing parenthesis.
    #[error("{0:?} opens a factory call without closing it: write module:make_app() or module:make_app('x')")]
    UnclosedCall(String),
}

impl AppTarget {
    /// Parses `module[:attr]`, `file.py[:attr]` or `module:factory(args)`; the
    /// attribute defaults to `application` (the PEP 3333 and mod_wsgi name).
    ///
    /// ```
    /// use gateway_wsgi::target::{AppTarget, ModuleRef};
    ///
    /// let target = AppTarget::parse("examples/flask_app.py:app").unwrap();
    /// assert_eq!(target.module, ModuleRef::File("examples/flask_app.py".into()));
    /// assert_eq!(target.attr, "app");
    /// let factory = AppTarget::parse("shop.wsgi:create_app('prod')").unwrap();
    /// assert_eq!(factory.factory_args.as_deref(), Some("'prod'"));
    /// assert_eq!(AppTarget::parse("mysite.wsgi").unwrap().attr, "application");
    /// ```
    pub fn parse(text: &str) -> Result<Self, TargetError> {
        // A colon inside a factory's arguments is not the separator.
        let head = &text[..text.find('(').unwrap_or(text.len())];
        let (module, rest) = match head.rfind(':') {
            Some(i) => (&text[..i], &text[i + 1..]),
            None => (text, "application"),
        };
        if module.is_empty() {
            return Err(TargetError::NoModule(text.to_owned()));
        }
        let (attr, factory_args) = match rest.find('(') {
            Some(open) => {
                let Some(args) = rest[open + 1..].strip_suffix(')') else {
                    return Err(TargetError::UnclosedCall(text.to_owned()));
                };
                (&rest[..open], Some(args.to_owned()))
            }
            None => (rest, None),
        };
        let attr = if attr.is_empty() { "application" } else { attr };
        check_dotted(attr, text)?;
        let module = if module.ends_with(".py") || module.contains('/') {
            ModuleRef::File(PathBuf::from(module))
        } else {
            check_dotted(module, text)?;
            ModuleRef::Name(module.to_owned())
        };
        Ok(Self {
            module,
            attr: attr.to_owned(),
            factory_args,
        })
    }
}

fn check_dotted(name: &str, text: &str) -> Result<(), TargetError> {
    let ok = name.split('.').all(|part| {
        let mut chars = part.chars();
        chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
            && chars.all(|c| c.is_alphanumeric() || c == '_')
    });
    if ok {
        Ok(())
    } else {
        Err(TargetError::NotAName {
            name: name.to_owned(),
            text: text.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_form_parses_and_bad_ones_say_why() {
        let t = AppTarget::parse("pkg.mod:app.wsgi_app").unwrap();
        assert_eq!(t.module, ModuleRef::Name("pkg.mod".into()));
        assert_eq!(t.attr, "app.wsgi_app");
        assert_eq!(t.factory_args, None);
        let t = AppTarget::parse("m:make()").unwrap();
        assert_eq!(t.factory_args.as_deref(), Some(""));
        let t = AppTarget::parse("m:make('a:b')").unwrap();
        assert_eq!(t.attr, "make");
        assert_eq!(t.factory_args.as_deref(), Some("'a:b'"));
        assert!(matches!(
            AppTarget::parse(":app"),
            Err(TargetError::NoModule(_))
        ));
        assert!(matches!(
            AppTarget::parse("m:make("),
            Err(TargetError::UnclosedCall(_))
        ));
        assert!(matches!(
            AppTarget::parse("my-app:app"),
            Err(TargetError::NotAName { .. })
        ));
        assert!(matches!(
            AppTarget::parse("m:1app"),
            Err(TargetError::NotAName { .. })
        ));
    }
}
