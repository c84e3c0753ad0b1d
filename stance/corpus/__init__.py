"""Working with a scored corpus: stance shares per group (`shares`), the scored file read in one
pass (`scored`), charts and the HTML report (`charts`, `report`), and the passages most worth
labeling (`review`)."""
