-- Rows returned are violations: daily revenue must add up to the paid orders' totals.
SELECT d.day, d.revenue, f.paid
FROM mart.daily_revenue AS d
JOIN (
  SELECT CAST(ordered_at AS DATE) AS day, SUM(order_total) AS paid
  FROM mart.fct_orders
  WHERE status = 'paid'
  GROUP BY day
) AS f ON f.day = d.day
WHERE d.revenue != f.paid
