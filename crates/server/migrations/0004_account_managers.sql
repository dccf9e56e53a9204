-- Each customer company may have its account manager: a sales rep of the seller. Workflow
-- notifications "to the sales rep" about the company's orders go to that rep; a company
-- without one is looked after by every sales rep, as before.
ALTER TABLE companies ADD COLUMN sales_rep_id TEXT REFERENCES users (id);
