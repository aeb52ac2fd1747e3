//! Per-call memo of what queries read: each source's items (its resources read once per call),
//! and which items of a source match a value set, in record order (with the index of the
//! matching concept). Every query over the same source and value set repeats the same scan,
//! and matching is pure, so one scan per call serves all rules; a pack of many rules then costs
//! little more than its distinct value sets.
//!
//! Variant findings (`variants` queries) are memoised the same way, per gene value set, before
//! the rule's own allele-frequency threshold is applied.

use std::cell::{OnceCell, RefCell};
use std::rc::Rc;

use rustc_hash::FxHashMap;

use super::item::Item;
use super::source::{SourceDef, SourceItem, Types, Variant};
use super::valueset::{words, Compiled};
use crate::record::PatientRecord;

/// A source read in this call: its address, what it reads, and the items.
type SourceRead = (*const SourceDef, String, Rc<[SourceItem]>);

/// What one call has read and scanned, shared by the cohort and every rule.
#[derive(Default)]
pub(super) struct Scans {
    /// By source: its address, and what it reads ([`SourceDef::reading`]) for a source read
    /// alike (a pack has a dozen sources: a short list beats hashing).
    items: RefCell<Vec<SourceRead>>,
    /// The record's resource types, read the first time a source is.
    types: OnceCell<Types>,
    hits: RefCell<FxHashMap<ScanKey, Hits>>,
    variants: RefCell<FxHashMap<*const Compiled, Rc<[Item]>>>,
    /// The [`words`] of the record's texts, by content: every value set with text entries
    /// matches the same texts, and most texts recur (the same display on every monthly
    /// result), so a call splits and lower-cases each distinct text once.
    words: RefCell<FxHashMap<Box<str>, Rc<[String]>>>,
}

/// A source, which of its filters, and a value set (by address: both live as long as the
/// compiled pack).
type ScanKey = (*const SourceDef, Variant, *const Compiled);

/// The matching items of a source, in record order, each with the index of its matching
/// concept.
pub(super) type Hits = Rc<[(usize, usize)]>;

impl Scans {
    /// The words of `text`.
    pub(super) fn words_of(&self, text: &str) -> Rc<[String]> {
        if let Some(w) = self.words.borrow().get(text) {
            return w.clone();
        }
        let w: Rc<[String]> = words(text).into();
        self.words.borrow_mut().insert(text.into(), w.clone());
        w
    }

    /// The items of `def` for this call, read by `read` the first time: the cohort and the
    /// rules share them (a source's FHIRPath reads no rule's variables, so whoever reads first
    /// reads what the other would). Sources that read alike (the same
    /// [`SourceDef::reading`]) share one reading: `results` and `variants` differ only in what they prefetch, and
    /// Observations are most of a record.
    pub(super) fn items(
        &self,
        def: &SourceDef,
        record: &PatientRecord,
        read: impl FnOnce(&Types) -> Vec<SourceItem>,
    ) -> Rc<[SourceItem]> {
        let address = def as *const SourceDef;
        if let Some((.., items)) = self.items.borrow().iter().find(|(a, ..)| *a == address) {
            return items.clone();
        }
        let reading = def.reading();
        let found = {
            let memo = self.items.borrow();
            memo.iter()
                .find(|(_, r, _)| *r == reading)
                .map(|(.., items)| items.clone())
        };
        let items: Rc<[SourceItem]> = found.unwrap_or_else(|| {
            read(self.types.get_or_init(|| Types::of(&record.resources))).into()
        });
        self.items
            .borrow_mut()
            .push((address, reading, items.clone()));
        items
    }

    /// The items of `def` that `variant` admits and `vs` matches, found by `scan` the first
    /// time.
    pub(super) fn hits(
        &self,
        def: &SourceDef,
        variant: Variant,
        vs: &Compiled,
        scan: impl FnOnce() -> Hits,
    ) -> Hits {
        let key = (def as *const SourceDef, variant, vs as *const Compiled);
        if let Some(hits) = self.hits.borrow().get(&key) {
            return hits.clone();
        }
        let hits = scan();
        self.hits.borrow_mut().insert(key, hits.clone());
        hits
    }

    /// The variant findings of a gene value set, found by `find` the first time.
    pub(super) fn variants(
        &self,
        genes: &Compiled,
        find: impl FnOnce() -> Rc<[Item]>,
    ) -> Rc<[Item]> {
        let key = genes as *const Compiled;
        if let Some(items) = self.variants.borrow().get(&key) {
            return items.clone();
        }
        let items = find();
        self.variants.borrow_mut().insert(key, items.clone());
        items
    }
}
