//! Who may change a ticket's listing, and when.

use super::holds::Status;

/// Why an edit or a withdrawal is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EditRefused {
    #[error("Not found")]
    NotFound,
    #[error("Forbidden")]
    NotOwner,
    #[error("Cannot edit a reserved ticket")]
    Reserved,
    #[error("Cannot edit a sold ticket")]
    Sold,
    #[error("Cannot edit a withdrawn ticket")]
    Withdrawn,
    #[error("Cannot withdraw a reserved ticket")]
    WithdrawReserved,
    #[error("Cannot withdraw a sold ticket")]
    WithdrawSold,
}

/// Whether `user` may edit a ticket of `owner`'s in `status`.
pub fn may_edit(owner: &str, status: Status, user: &str) -> Result<(), EditRefused> {
    if owner != user {
        return Err(EditRefused::NotOwner);
    }
    match status {
        Status::Available => Ok(()),
        Status::Reserved => Err(EditRefused::Reserved),
        Status::Sold => Err(EditRefused::Sold),
        Status::Withdrawn => Err(EditRefused::Withdrawn),
    }
}

/// What withdrawing a ticket does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Withdrawal {
    Withdraw,
    /// Withdrawn already: nothing to do.
    Unchanged,
}

/// Whether `user` may take a ticket of `owner`'s in `status` off sale.
pub fn may_withdraw(owner: &str, status: Status, user: &str) -> Result<Withdrawal, EditRefused> {
    if owner != user {
        return Err(EditRefused::NotOwner);
    }
    match status {
        Status::Available => Ok(Withdrawal::Withdraw),
        Status::Withdrawn => Ok(Withdrawal::Unchanged),
        Status::Reserved => Err(EditRefused::WithdrawReserved),
        Status::Sold => Err(EditRefused::WithdrawSold),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_an_available_ticket_when_its_owner_edits_it_then_it_is_allowed() {
        assert_eq!(may_edit("u1", Status::Available, "u1"), Ok(()));
    }

    #[test]
    fn given_a_ticket_when_someone_else_edits_it_then_it_is_refused() {
        assert_eq!(
            may_edit("u1", Status::Available, "u2"),
            Err(EditRefused::NotOwner)
        );
    }

    #[test]
    fn given_a_reserved_sold_or_withdrawn_ticket_when_its_owner_edits_it_then_it_is_refused() {
        assert_eq!(
            may_edit("u1", Status::Reserved, "u1"),
            Err(EditRefused::Reserved)
        );
        assert_eq!(may_edit("u1", Status::Sold, "u1"), Err(EditRefused::Sold));
        assert_eq!(
            may_edit("u1", Status::Withdrawn, "u1"),
            Err(EditRefused::Withdrawn)
        );
    }

    #[test]
    fn given_an_available_ticket_when_its_owner_withdraws_it_then_it_goes_and_again_changes_nothing()
     {
        assert_eq!(
            may_withdraw("u1", Status::Available, "u1"),
            Ok(Withdrawal::Withdraw)
        );
        assert_eq!(
            may_withdraw("u1", Status::Withdrawn, "u1"),
            Ok(Withdrawal::Unchanged)
        );
    }

    #[test]
    fn given_a_reserved_or_sold_ticket_or_another_s_then_it_is_not_withdrawn() {
        assert_eq!(
            may_withdraw("u1", Status::Reserved, "u1"),
            Err(EditRefused::WithdrawReserved)
        );
        assert_eq!(
            may_withdraw("u1", Status::Sold, "u1"),
            Err(EditRefused::WithdrawSold)
        );
        assert_eq!(
            may_withdraw("u1", Status::Available, "u2"),
            Err(EditRefused::NotOwner)
        );
    }
}
