use super::*;

#[test]
fn words_are_memoised_by_content_whatever_the_address() {
    let scans = Scans::default();
    let (a, b) = (
        String::from("Hemoglobin [Mass]"),
        String::from("Hemoglobin [Mass]"),
    );
    assert_ne!(a.as_ptr(), b.as_ptr());
    let first = scans.words_of(&a);
    assert_eq!(&*first, words(&a).as_slice());
    assert!(Rc::ptr_eq(&first, &scans.words_of(&b)), "split once");
    let other = scans.words_of("Platelets");
    assert_eq!(&*other, ["platelets".to_owned()].as_slice());
    assert!(!Rc::ptr_eq(&first, &other));
}
