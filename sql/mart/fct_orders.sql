/* dap
materialized = "incremental"
unique_key = "order_id"
partition_by = "DATE(ordered_at)"
cluster_by = ["customer_id"]
description = "Orders with their totals; merged on order_id at each run"
[assert]
not_null = ["order_id", "order_total"]
unique = ["order_id"]
expressions = ["order_total >= 0"]
*/
SELECT
  o.order_id,
  o.customer_id,
  o.status,
  o.coupon,
  o.ordered_at,
  SUM(i.quantity * i.unit_price) AS order_total,
  SUM(i.quantity) AS items
FROM staging.orders AS o
JOIN staging.order_items AS i ON i.order_id = o.order_id
GROUP BY o.order_id, o.customer_id, o.status, o.coupon, o.ordered_at
