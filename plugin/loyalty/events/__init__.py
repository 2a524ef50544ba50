"""What the app tells the world about members, and how it gets there.

- `member_events`: recording member events once, and reading them back.
- `subscriptions`: the merchant's endpoints, and the deliveries each event owes them.
- `dispatch`: asking for the sender after a commit and on the sweep.
- `delivery`: sending what is owed, signed and retried.
- `store_sync`: each member's balance and tier written to the store (metafields, tags).
- `flow_triggers`, `flow_sender`: the Shopify Flow triggers each change owes, and firing them.
"""
