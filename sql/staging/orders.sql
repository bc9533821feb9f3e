/* dap
materialized = "view"
description = "One row per order: the latest version of each record from the paginated API dump"
[columns]
order_id = "Order id from the API"
coupon = "Coupon code; the field only appears from page 2 of the dump on"
[assert]
not_null = ["order_id", "ordered_at"]
unique = ["order_id"]
accepted_values = { status = ["paid", "refunded", "pending"] }
*/
SELECT
  CAST(id AS INT64) AS order_id,
  customer.id AS customer_id,
  NULLIF(TRIM(customer.email), '') AS customer_email,
  LOWER(status) AS status,
  coupon,
  CAST(created_at AS TIMESTAMP) AS ordered_at,
  CAST(updated_at AS TIMESTAMP) AS updated_at
FROM raw.orders
WHERE id IS NOT NULL
QUALIFY ROW_NUMBER() OVER (PARTITION BY id ORDER BY updated_at DESC) = 1
