"""The loyalty domain: the ledger (the only place points move), members, shops and their
programs, rewards and redemptions, privacy duties and dashboard figures. It never imports
the web edges (`admin_ui`, `webhooks`, `plugin.storefront`); they call into it."""
