/**
 * The worker's template texts against the contract: the same templates, each using exactly the
 * variables the contract requires (a request is refused without them, so a text may need no
 * other), and in its subject exactly those the contract keeps to one line.
 */
import { EMAIL_TEMPLATE_NAMES, templateVariables } from '@tasks/contracts';
import { EMAIL_TEMPLATES, variablesIn } from '../src/email-templates';

describe('e-mail template texts', () => {
  it('are there for every template of the contract, and only for those', () => {
    expect(Object.keys(EMAIL_TEMPLATES).sort()).toEqual([...EMAIL_TEMPLATE_NAMES].sort());
  });

  it.each(EMAIL_TEMPLATE_NAMES)('%s uses the variables the contract requires', (name) => {
    const template = EMAIL_TEMPLATES[name];
    const used = variablesIn(`${template.subject}\n${template.text}\n${template.html ?? ''}`);

    expect(used).toEqual(templateVariables(name).all);
    expect(variablesIn(template.subject)).toEqual(templateVariables(name).inSubject);
  });

  it('reads spaced placeholders once each', () => {
    expect(variablesIn('{{ a }} {{b}} {{a}} {single} {{ 1x }}')).toEqual(['a', 'b']);
  });
});
