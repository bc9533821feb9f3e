/* dap
materialized = "view"
description = "One row per order line, unnested from each order's items array"
[assert]
not_null = ["order_id", "sku"]
expressions = ["quantity > 0", "unit_price >= 0"]
relationships = { order_id = "staging.orders.order_id" }
*/
SELECT
  o.order_id,
  item.sku,
  item.name AS product,
  CAST(item.qty AS INT64) AS quantity,
  CAST(item.unit_price AS NUMERIC) AS unit_price
FROM (
  SELECT CAST(id AS INT64) AS order_id, items
  FROM raw.orders
  WHERE id IS NOT NULL
  QUALIFY ROW_NUMBER() OVER (PARTITION BY id ORDER BY updated_at DESC) = 1
) AS o, UNNEST(o.items) AS item
