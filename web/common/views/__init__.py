"""The pages both front doors share, one blueprint per area. Each view: form -> one identity
call -> page (thin entrypoints); a failed call is answered where it happens (FormPage.failed)
or by the app's one error handler (web.common.errors)."""
