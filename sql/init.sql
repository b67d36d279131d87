--
-- init: the server, the user mapping and the imported schema that the other
-- regression tests use.  The mock Civis API's address comes from the test
-- runner (CIVIS_MOCK_URL); the key is the mock's dummy test key.
--
\getenv mock_url CIVIS_MOCK_URL
SET client_min_messages = warning;
SET timezone = 'UTC';
CREATE SERVER civis FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER civis
  OPTIONS (api_key 'test-key-0123456789');
CREATE SCHEMA civis;
IMPORT FOREIGN SCHEMA civis FROM SERVER civis INTO civis;
SELECT count(1) AS imported_tables
  FROM information_schema.foreign_tables WHERE foreign_table_schema = 'civis';
