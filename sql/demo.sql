-- dap demo: raw CSV → external table → Delta table → revenue per customer.
CREATE SCHEMA IF NOT EXISTS demo;

CREATE OR REPLACE EXTERNAL TABLE demo.orders_raw
OPTIONS (format = 'CSV', uris = ['datasets/demo/orders.csv'], skip_leading_rows = 1);

CREATE OR REPLACE TABLE demo.orders AS
SELECT order_id, customer, CAST(amount AS NUMERIC) AS amount, status, ordered_at
FROM demo.orders_raw;

UPDATE demo.orders SET status = 'paid' WHERE status = 'pending' AND amount < 10;

SELECT
  customer,
  COUNT(*) AS orders,
  SUM(CASE WHEN status = 'paid' THEN amount ELSE 0 END) AS revenue,
  MAX(ordered_at) AS last_order
FROM demo.orders
GROUP BY customer
ORDER BY revenue DESC;
