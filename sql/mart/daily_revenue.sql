/* dap
materialized = "table"
tags = ["sample"]
description = "Paid revenue per day"
[assert]
row_count = { min = 1 }
unique = ["day"]
*/
SELECT
  CAST(ordered_at AS DATE) AS day,
  COUNT(*) AS orders,
  SUM(CASE WHEN status = 'paid' THEN 1 ELSE 0 END) AS paid_orders,
  SUM(CASE WHEN status = 'paid' THEN order_total ELSE 0 END) AS revenue
FROM mart.fct_orders
GROUP BY day
ORDER BY day
