-- A neutralized copy (staging, a restored backup) must never call production:
-- every connection goes to the sandbox, stops, and forgets its secret.
UPDATE avidxchange_backend
   SET environment = 'sandbox',
       base_url = 'https://sandbox.apistore.avidxchange.net',
       token_url = 'https://sandbox.apistore.avidxchange.net/token',
       state = 'draft',
       client_secret_encrypted = NULL,
       has_client_secret = FALSE,
       connection_status = 'unknown',
       connection_message = NULL;
UPDATE ir_cron
   SET active = FALSE
 WHERE id IN (SELECT res_id FROM ir_model_data
               WHERE module = 'account_avidxchange' AND model = 'ir.cron');
