//! GetRandomPassword.

use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::{Value, json};

use super::Call;
use super::wire::GetRandomPasswordInput;
use crate::error::{AwsError, ErrorCode};

const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

pub(super) fn get_random_password(
    input: GetRandomPasswordInput,
    call: &mut Call<'_>,
) -> Result<Value, AwsError> {
    call.authorizer
        .authorize("secretsmanager:GetRandomPassword", "*")?;
    let length = input.password_length.unwrap_or(32);
    if !(1..=4096).contains(&length) {
        return Err(AwsError::new(
            ErrorCode::ValidationException,
            format!(
                "1 validation error detected: Value '{length}' at 'passwordLength' failed to satisfy constraint: Member must have value between 1 and 4096"
            ),
        ));
    }
    let exclude = input.exclude_characters.unwrap_or_default();
    let keep = |set: &str| -> Vec<char> { set.chars().filter(|c| !exclude.contains(*c)).collect() };
    let mut classes: Vec<Vec<char>> = Vec::new();
    if !input.exclude_lowercase.unwrap_or(false) {
        classes.push(keep("abcdefghijklmnopqrstuvwxyz"));
    }
    if !input.exclude_uppercase.unwrap_or(false) {
        classes.push(keep("ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
    }
    if !input.exclude_numbers.unwrap_or(false) {
        classes.push(keep("0123456789"));
    }
    if !input.exclude_punctuation.unwrap_or(false) {
        classes.push(keep(PUNCTUATION));
    }
    if input.include_space.unwrap_or(false) {
        classes.push(keep(" "));
    }
    classes.retain(|c| !c.is_empty());
    let require_each = input.require_each_included_type.unwrap_or(true);
    if classes.is_empty() || (require_each && (length as usize) < classes.len()) {
        return Err(AwsError::invalid_parameter(
            "Password length is too short based on the required types.",
        ));
    }
    let all: Vec<char> = classes.iter().flatten().copied().collect();
    let mut rng = rand::rng();
    let mut password: Vec<char> = (0..length)
        .filter_map(|_| all.choose(&mut rng).copied())
        .collect();
    if require_each {
        // Put one of each class at distinct random positions.
        let mut positions: Vec<usize> = (0..password.len()).collect();
        for class in &classes {
            let slot = positions.swap_remove(rng.random_range(0..positions.len()));
            if let Some(c) = class.choose(&mut rng) {
                password[slot] = *c;
            }
        }
    }
    Ok(json!({ "RandomPassword": password.into_iter().collect::<String>() }))
}
